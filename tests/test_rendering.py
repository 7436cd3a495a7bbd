"""The template guard of issue #12 point 1: what a page may print (webapp/rendering.py)."""
from datetime import datetime, timezone

import pytest
from flask import render_template_string

from webapp.rendering import TemplateValueError


def render(app, source, **ctx):
    with app.test_request_context("/"):
        return render_template_string(source, **ctx)


def test_a_dict_method_printed_by_mistake_fails_the_render(app):
    """`counts.items` is the dict's method, not the key: the home page once printed its repr."""
    with pytest.raises(TemplateValueError):
        render(app, "{{ counts.items }}", counts={"items": 3})
    assert render(app, "{{ counts['items'] }}", counts={"items": 3}) == "3"


def test_none_booleans_and_instants_print_as_people_read_them(app):
    out = render(app, "[{{ a }}][{{ b }}][{{ c }}][{{ d }}][{{ 0 }}]", a=None, b=True, c=False,
                 d=datetime(2026, 11, 29, 16, 30, 5, 123456, tzinfo=timezone.utc))
    assert out == "[][是][否][2026-11-30 00:30][0]"


def test_markup_and_macros_are_untouched(app):
    out = render(app, "{% macro m(x) %}<b>{{ x }}</b>{% endmacro %}{{ m('a&b') }}|{{ s }}", s="<i>")
    assert out == "<b>a&amp;b</b>|&lt;i&gt;"
