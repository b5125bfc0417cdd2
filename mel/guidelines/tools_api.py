"""GET /api/v1/tools-pack: the reporting tools pack of a programme (or of all) for a quarter, as a zip."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from mel.api import api_blueprint
from mel.converters import PeriodField
from mel.guidelines.tools_views import pack_response

blp = api_blueprint("tools_api", __name__, "Reporting tools: the Excel templates of a quarter, with their "
                                            "indicator sheets and instructions, in one zip.")


class ToolsPackArgs(ma.Schema):
    programme = ma.fields.String(load_default="ALL", validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "A programme's code, or ALL: every programme the caller may download, a folder each"})
    period = PeriodField("quarter", required=True, metadata={"description": "A quarter, e.g. 2025Q3"})


@blp.route("/tools-pack")
class ToolsPack(MethodView):
    @blp.arguments(ToolsPackArgs, location="query")
    @blp.response(200, content_type="application/zip")
    @blp.alt_response(403, description="Viewers, and officers asking for a programme that is not theirs")
    @blp.alt_response(404, description="An unknown programme, or a form that asks no returns that quarter")
    @blp.alt_response(422, description="A malformed quarter; `details` name the field")
    def get(self, args):
        """The reporting tools pack: one Excel return template per org unit of the programme's form for the
        quarter (officers: their own org units), each with an Indicators sheet and an Instructions sheet
        (window dates, editable cells, how to upload, who to ask), and `manifest.json` and `README.txt`
        recording the catalogue version, the quarter, the programme, when it was made and each file's
        SHA-256 (also in the `X-Catalogue-Version` header). `programme=ALL` puts each programme in a folder of
        its own. The secretariat and the MERL TWG download every programme's; officers their own
        programmes'; viewers none. Every template imports back through `POST /returns:import` once filled.
        The zip is streamed as it is made (a pack of every programme holds some 250 templates)."""
        return pack_response(args["programme"], args["period"], english=True)
