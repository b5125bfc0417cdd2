// The return grid, quicker to fill (no library, works offline). Without this script the form posts
// and the server checks everything; with it, sums and percentages follow the typing, a figure's
// format is checked as it loses focus (the server's own rules and words, from data-rules), Enter
// and the arrow keys move between figures, and what is typed is kept in this browser until the
// server has it (a reload, a dropped connection or a closed tab loses nothing). The server stays
// the judge of every figure. Every word it writes comes from the server in the page's language
// (data-words: "{name}" marks what the script fills in).
(function () {
  "use strict";
  var form = document.getElementById("grid-form");
  if (!form || !form.hasAttribute("data-editable")) return;
  var rules = JSON.parse(form.getAttribute("data-rules"));
  var words = JSON.parse(form.getAttribute("data-words"));
  var numberRe = new RegExp(rules.number);
  var thousandsRe = new RegExp(rules.thousands);
  var figures = Array.prototype.slice.call(form.querySelectorAll("input.num"));
  var versionInput = form.elements.namedItem("version");
  var pageVersion = versionInput.value;
  var prefix = "mel.grid:" + form.getAttribute("data-draft-key") + ":v";
  var notice = document.getElementById("draft-notice");
  var saveState = document.getElementById("save-state");
  var problems = document.getElementById("problems");
  var submitting = false;

  // ------------------------------------------------------------------ checks, as parse_numbers
  function problemOf(raw, measure) {
    if (raw === "") return "";
    var problem = "";
    var isNumber = numberRe.test(raw);
    if (!isNumber) problem = "not_a_number";
    if (thousandsRe.test(raw)) problem = "thousands_separator";
    if (raw.charAt(raw.length - 1) === "%") problem = "percent_sign";
    if (!isNumber) return problem;
    var number = parseFloat(raw);
    if (number < 0) problem = "negative";
    if (Math.abs(number) > rules.max) problem = "too_large";
    if (!problem && rules.whole.indexOf(measure) >= 0 && number !== Math.floor(number)) problem = "not_whole";
    if (!problem && rules.cents.indexOf(measure) >= 0) {
      var cents = number * 100;
      var exponent = /[eE]/.test(raw);
      if ((!exponent && /\.\d{2}\d*[1-9]/.test(raw)) || (exponent && Math.abs(cents - Math.round(cents)) > 1e-6)) {
        problem = "too_many_decimals";
      }
    }
    return problem;
  }

  function quoted(raw) {  // as Python's repr() quotes the text in the server's message
    return raw.indexOf("'") >= 0 && raw.indexOf('"') < 0 ? '"' + raw + '"' : "'" + raw + "'";
  }

  function fill(template, values) {  // "{name}" → values.name (names it does not know stay as they are)
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function messageOf(problem, raw, input) {
    var values = {
      quoted: quoted(raw), raw: raw, fixed: raw.replace(/[, ]/g, ""),
      indicator: input.getAttribute("data-indicator"),
      kind: rules.kinds[input.getAttribute("data-component") === "value" ? "value" : "part"]
    };
    return fill(rules.messages[problem] || rules.messages.not_a_number, values);
  }

  function numberOf(input) {
    var raw = input.value.trim();
    if (raw === "" || problemOf(raw, input.getAttribute("data-measure"))) return null;
    return parseFloat(raw);
  }

  function errorId(input) { return "err-" + input.name.replace(/\./g, "-"); }

  function showError(input, text) {
    var span = document.getElementById(errorId(input));
    if (!span) {
      span = document.createElement("span");
      span.className = "cell-error";
      span.id = errorId(input);
      input.parentNode.insertBefore(span, input.nextSibling);
    }
    span.textContent = text;
    input.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", span.id);
  }

  function clearError(input) {
    var span = document.getElementById(errorId(input));
    while (span) {
      span.parentNode.removeChild(span);
      span = document.getElementById(errorId(input));
    }
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }

  function check(input) {
    var raw = input.value.trim();
    var problem = problemOf(raw, input.getAttribute("data-measure"));
    if (problem) showError(input, messageOf(problem, raw, input));
    // The server's own errors on a figure (a total that does not add up …) stay until it is changed.
    else if (!input.hasAttribute("data-server-error") || input.value !== input.getAttribute("data-server-error")) {
      clearError(input);
    }
  }

  figures.forEach(function (input) {
    if (input.getAttribute("aria-invalid") === "true") input.setAttribute("data-server-error", input.value);
  });

  // ------------------------------------------------------------------ sums and percentages
  function shown(value, decimals) {
    return value.toLocaleString("en-US", {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
  }

  function figure(indicator, component, option) {
    return form.querySelector('input.num[data-indicator="' + indicator + '"][data-component="' + component +
      '"][data-option="' + option + '"]');
  }

  function updateRatio(cell) {
    var key = cell.getAttribute("data-ratio").split("|");
    var top = figure(key[0], "numerator", key[1]);
    var bottom = figure(key[0], "denominator", key[1]);
    if (!top || !bottom) return;
    var n = numberOf(top);
    var d = numberOf(bottom);
    cell.textContent = n !== null && d !== null && d > 0
      ? shown(n / d * parseFloat(cell.getAttribute("data-factor")), 1) : "–";
  }

  function updateParts(output) {
    var key = output.getAttribute("data-parts").split("|");
    var parts = form.querySelectorAll('input.num[data-indicator="' + key[0] + '"][data-component="' + key[1] + '"]');
    var sum = 0, counted = 0, expected = 0, total = null, decimals = 0;
    for (var i = 0; i < parts.length; i++) {
      decimals = parts[i].getAttribute("data-measure") === "amount" ? 2 : 0;
      if (parts[i].getAttribute("data-option") === "total") { total = numberOf(parts[i]); continue; }
      expected += 1;
      var value = numberOf(parts[i]);
      if (value !== null) { sum += value; counted += 1; }
    }
    output.classList.remove("mismatch");
    if (!counted) { output.textContent = ""; return; }
    var text = fill(words.parts, {sum: shown(sum, decimals)});
    // The same rule as the server's total check: complete parts equal the total, others stay below it.
    if (total !== null && ((counted === expected && Math.abs(sum - total) > 0.005) ||
                           (counted < expected && sum > total + 0.005))) {
      text = fill(words.parts_not_total, {sum: shown(sum, decimals), total: shown(total, decimals)});
      output.classList.add("mismatch");
    }
    output.textContent = text;
  }

  function recompute() {
    Array.prototype.forEach.call(form.querySelectorAll("td.computed[data-ratio]"), updateRatio);
    Array.prototype.forEach.call(form.querySelectorAll("output.parts"), updateParts);
  }

  // ------------------------------------------------------------------ moving between figures
  function vertical(index, step) {
    var here = figures[index];
    var table = here.closest("table");
    var column = here.getAttribute("data-col");
    for (var i = index + step; i >= 0 && i < figures.length; i += step) {
      if (figures[i].closest("table") !== table) return figures[i];
      if (figures[i].getAttribute("data-col") === column) return figures[i];
    }
    return null;
  }

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    var index = figures.indexOf(input);
    if (index < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    var next;
    if (event.key === "Enter") next = figures[index + (event.shiftKey ? -1 : 1)];
    else if (event.key === "ArrowDown") next = vertical(index, 1);
    else if (event.key === "ArrowUp") next = vertical(index, -1);
    else if (event.key === "ArrowRight" && input.selectionStart === input.value.length) next = figures[index + 1];
    else if (event.key === "ArrowLeft" && input.selectionEnd === 0) next = figures[index - 1];
    else return;
    event.preventDefault();  // Enter in a figure moves on; it never sends half a grid
    if (next) { next.focus(); next.select(); }
  });

  // ------------------------------------------------------------------ comments, opened on demand
  function openComment(input, focus) {
    input.hidden = false;
    input.removeAttribute("tabindex");
    var button = input.previousElementSibling;
    if (button && button.classList.contains("comment-toggle")) button.hidden = true;
    if (focus) input.focus();
  }

  Array.prototype.forEach.call(form.querySelectorAll("input.comment"), function (input) {
    if (input.value) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "comment-toggle";
    button.textContent = words.add_comment;
    // The name begins with the words shown, so a voice user saying "click Add comment" reaches it (WCAG 2.5.3).
    button.setAttribute("aria-label", fill(words.add_comment_on, {figure: input.getAttribute("data-figure")}));
    input.setAttribute("tabindex", "-1");
    input.hidden = true;
    input.parentNode.insertBefore(button, input);
    button.addEventListener("click", function () { openComment(input, true); });
  });

  // ------------------------------------------------------------------ the local draft
  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "radio" && el.type !== "hidden" && el.type !== "submit" &&
        /^(v\.|c\.|x\.|narrative$)/.test(el.name);
    });
  }

  function same(el, a, b) {
    if (el.classList.contains("num") && numberRe.test(a.trim()) && numberRe.test(b.trim())) {
      return parseFloat(a) === parseFloat(b);
    }
    return a.trim() === b.trim();
  }

  // A page re-shown after a refused save holds figures the server does not have: all are unsaved.
  var initial = {};
  fields().forEach(function (el) { if (!problems) initial[el.name] = el.value; });

  function changes() {
    var found = {};
    fields().forEach(function (el) {
      if (!(el.name in initial) || !same(el, el.value, initial[el.name])) found[el.name] = el.value;
    });
    return found;
  }

  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function drafts() {
    var store = storage();
    var found = [];
    if (!store) return found;
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(prefix) === 0) {
        try { found.push({key: key, body: JSON.parse(store.getItem(key))}); } catch (error) { store.removeItem(key); }
      }
    }
    return found.sort(function (a, b) { return b.body.at - a.body.at; });
  }

  function keep() {
    var store = storage();
    if (!store) return;
    var changed = changes();
    var key = prefix + versionInput.value;
    var dirty = Object.keys(changed).length > 0;
    if (dirty) {
      try {
        store.setItem(key, JSON.stringify({version: versionInput.value, at: Date.now(), values: changed}));
      } catch (error) { /* storage full or refused: the page still holds the figures */ }
    } else {
      store.removeItem(key);
    }
    if (saveState) {
      saveState.textContent = dirty ? words.unsaved : "";
    }
  }

  var timer = null;
  function keepSoon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(keep, 250);
  }

  function say(text, withDiscard) {
    notice.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    notice.appendChild(p);
    if (withDiscard) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = words.discard;
      button.addEventListener("click", discard);
      notice.appendChild(button);
    }
    notice.hidden = false;
  }

  function discard() {
    drafts().forEach(function (draft) { storage().removeItem(draft.key); });
    fields().forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = o.defaultSelected; });
      } else {
        el.value = el.defaultValue;
      }
      if (el.classList.contains("num")) clearError(el);
    });
    versionInput.value = pageVersion;
    recompute();
    keep();
    say(words.discarded, false);
  }

  function restore() {
    var found = drafts();
    if (!found.length) return;
    var draft = found[0];
    var restored = 0;
    Object.keys(draft.body.values || {}).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (!el || el.readOnly || same(el, el.value, draft.body.values[name])) return;
      el.value = draft.body.values[name];
      restored += 1;
      if (el.classList.contains("num")) check(el);
      if (el.classList.contains("comment") && el.value) openComment(el, false);
    });
    found.forEach(function (other) { if (other !== draft) storage().removeItem(other.key); });
    if (!restored) {  // the server has every figure of the draft: it was saved
      storage().removeItem(draft.key);
      return;
    }
    var when = new Date(draft.body.at).toLocaleString(words.locale, {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"});
    // English and Kiswahili both take the "one" form for 1 and the "other" form otherwise.
    var text = fill(restored === 1 ? words.restored_one : words.restored_other, {count: restored, when: when});
    if (String(draft.body.version) !== String(pageVersion)) {
      // Typed against an earlier version: saving shows, figure by figure, theirs and the saved ones.
      versionInput.value = draft.body.version;
      text += " " + fill(words.other_version, {typed: draft.body.version, now: pageVersion});
    }
    say(text, true);
    recompute();
  }

  // ------------------------------------------------------------------ wiring
  form.addEventListener("input", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("num")) recompute();
    keepSoon();
  });
  form.addEventListener("change", function (event) {
    var el = event.target;
    if (el.type === "radio" && el.hasAttribute("data-field")) {  // a stale save's choice: put it in the grid
      var input = form.elements.namedItem(el.getAttribute("data-field"));
      if (input) { input.value = el.getAttribute("data-value"); check(input); recompute(); }
    }
    keepSoon();
  });
  form.addEventListener("focusout", function (event) {
    if (figures.indexOf(event.target) >= 0) check(event.target);
  });
  form.addEventListener("submit", function (event) {
    keep();
    if (navigator.onLine === false) {
      event.preventDefault();
      say(words.offline, false);
      notice.focus();
      return;
    }
    submitting = true;
  });
  window.addEventListener("online", function () {
    if (!notice.hidden) say(words.online, false);
  });
  window.addEventListener("offline", function () {
    keep();
    say(words.dropped, false);
  });
  window.addEventListener("pagehide", keep);
  window.addEventListener("beforeunload", function (event) {
    if (submitting || !Object.keys(changes()).length) return;
    keep();
    event.preventDefault();
    event.returnValue = "";
  });

  notice.setAttribute("tabindex", "-1");
  restore();
  recompute();
  keep();
  if (problems) problems.focus();
})();
