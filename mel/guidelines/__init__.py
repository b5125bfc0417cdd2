"""The reporting guidelines handbook and the reporting tools pack, generated from the catalogue and
the forms so they are never out of date."""
