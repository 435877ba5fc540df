"""The dashboard's analytics page: a date range (GET; default the last 30 days; a bad date is flashed and the
default used), and each figure of administration/analytics.py as a chart (vendored Chart.js, fed from JSON in
the page by static/js/admin_analytics.js) and a table, each table downloadable as CSV (?format=csv&table=name)."""

from __future__ import annotations

import csv
import io
import logging

from flask import Response, abort, flash, request
from flask_admin import Admin, BaseView, expose
from flask_wtf import FlaskForm
from wtforms import DateField

from ..admin import AdminOnly
from ..blueprints.administration import analytics
from ..errors import DomainError
from ..models.base import utcnow

logger = logging.getLogger(__name__)

# Which columns each chart draws (after the label column), and how.
CHARTS = {"bookings": ("bar", [1, 2]), "occupancy": ("bar", [3]), "top_cities": ("bar", [1]),
          "top_listings": ("bar", [3]), "new_users": ("bar", [1, 2, 3]), "conversion": ("line", [3]),
          "revenue": ("bar", [1, 2, 3, 4]), "revenue_all_time": ("bar", [1, 2, 3, 4])}


class RangeForm(FlaskForm):
    """The range picker; read from the query string, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    from_ = DateField("From", name="from")
    to = DateField("To")


def _chosen_range(form: RangeForm) -> analytics.Range:
    """The range asked for, or the default one with a flash saying why."""
    default = analytics.default_range(utcnow().date())
    if not request.args.get("from") and not request.args.get("to"):
        return default
    if not form.validate() or form.from_.data is None or form.to.data is None:
        flash("Give both dates as YYYY-MM-DD. Showing the last 30 days.", "danger")
        return default
    try:
        return analytics.make_range(form.from_.data, form.to.data)
    except DomainError as exc:
        reasons = " ".join(message for messages in (exc.fields or {}).values() for message in messages)
        flash(f"{reasons or exc.message} Showing the last 30 days.", "danger")
        return default


def _chart(name: str, table: dict) -> dict:
    kind, columns = CHARTS[name]
    label = 1 if name == "top_listings" else 0
    return {"id": name, "type": kind, "labels": [str(row[label]) for row in table["rows"]],
            "datasets": [{"label": table["columns"][column],
                          "data": [float(row[column]) if row[column] is not None else None
                                   for row in table["rows"]]} for column in columns]}


def _csv(name: str, table: dict, span: analytics.Range) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table["columns"])
    writer.writerows(["" if cell is None else cell for cell in row] for row in table["rows"])
    filename = f"abode-{name}-{span.first.isoformat()}-{span.last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class AnalyticsView(AdminOnly, BaseView):
    """/admin/analytics/: the figures of a range of days."""

    @expose("/")
    def index(self):
        form = RangeForm(request.args)
        span = _chosen_range(form)
        form.from_.data, form.to.data = span.first, span.last
        tables = analytics.analytics(span)
        if request.args.get("format") == "csv":
            name = request.args.get("table", "")
            if name not in tables:
                abort(404)
            return _csv(name, tables[name], span)
        charts = [_chart(name, table) for name, table in tables.items()]
        return self.render("admin/analytics.html", form=form, span=span, tables=tables, charts=charts)


def register(admin: Admin, db) -> None:
    """Add the analytics page to `admin`."""
    admin.add_view(AnalyticsView(name="Analytics", endpoint="analytics", url="analytics"))
