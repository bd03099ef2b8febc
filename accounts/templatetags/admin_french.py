"""{% load admin_french %}: the admin's generated phrases in agreeing French
(accounts/admin_french.py), for the admin templates under templates/admin/."""

from django import template

from accounts import admin_french

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_title(context) -> str:
    """The page's title; the admin's generated ones ("Select %s to change"...) in
    agreeing French."""
    title = context.get("title") or ""
    opts = context.get("opts") or getattr(context.get("cl"), "opts", None)
    return admin_french.generated_title(title, opts)


@register.simple_tag
def add_phrase(opts) -> str:
    return admin_french.add_phrase(opts)


@register.simple_tag
def delete_question(opts, obj) -> str:
    return admin_french.delete_question(opts, str(obj))


@register.simple_tag
def delete_selected_question(opts) -> str:
    return admin_french.delete_selected_question(opts)


@register.simple_tag
def plural_name(opts) -> str:
    """A model's plural name (third parties' English ones in French)."""
    return admin_french.noun(opts).plural
