"""What Discord rejects with 50035 (Invalid Form Body) or 50006 (empty message)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .errors import FormErrors, empty_message

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
IS_COMPONENTS_V2 = 1 << 15


def _is_url(value: Any, *, allow_attachment: bool = False) -> bool:
    """Whether Discord can parse `value` as a link: http(s) (or attachment://) with a host.

    Discord answers 50035 for anything else: other schemes (javascript:, data:, ftp:), no host,
    whitespace or control characters, a broken IPv6 literal ("http://[::1"), a port that is no
    number, or more than 2,048 characters.
    """
    if not isinstance(value, str) or len(value) > 2048:
        return False
    if allow_attachment and value.startswith("attachment://"):
        return len(value) > len("attachment://")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def validate_embeds(embeds: Any, errors: FormErrors) -> None:
    if not isinstance(embeds, list):
        errors.add(["embeds"], "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errors.max_length(["embeds"], 10)
        return
    total = 0
    for i, embed in enumerate(embeds):
        path: list[str | int] = ["embeds", i]
        if not isinstance(embed, dict):
            errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            if _text_len(embed.get(key)) > limit:
                errors.max_length([*path, key], limit)
        total += _text_len(embed.get("title")) + _text_len(embed.get("description"))
        if embed.get("url") is not None and not _is_url(embed["url"]):
            errors.add([*path, "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        for key in ("image", "thumbnail"):
            sub = embed.get(key)
            if isinstance(sub, dict) and not _is_url(sub.get("url"), allow_attachment=True):
                errors.add(
                    [*path, key, "url"],
                    "URL_TYPE_INVALID_URL",
                    "Scheme must be one of http, https.",
                )
        author = embed.get("author")
        if isinstance(author, dict):
            if not author.get("name"):
                errors.required([*path, "author", "name"])
            elif _text_len(author["name"]) > 256:
                errors.max_length([*path, "author", "name"], 256)
            total += _text_len(author.get("name"))
            for key in ("url", "icon_url"):
                if author.get(key) is not None and not _is_url(
                    author[key], allow_attachment=key == "icon_url"
                ):
                    errors.add(
                        [*path, "author", key], "URL_TYPE_INVALID_URL", "Not a well formed URL."
                    )
        footer = embed.get("footer")
        if isinstance(footer, dict):
            if _text_len(footer.get("text")) > 2048:
                errors.max_length([*path, "footer", "text"], 2048)
            total += _text_len(footer.get("text"))
            icon = footer.get("icon_url")
            if icon is not None and not _is_url(icon, allow_attachment=True):
                errors.add(
                    [*path, "footer", "icon_url"], "URL_TYPE_INVALID_URL", "Not a well formed URL."
                )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.max_length([*path, "fields"], 25)
        for j, fld in enumerate(fields[:25]):
            fpath = [*path, "fields", j]
            name, value = fld.get("name"), fld.get("value")
            if not name:
                errors.required([*fpath, "name"])
            elif len(name) > 256:
                errors.max_length([*fpath, "name"], 256)
            if not value:
                errors.required([*fpath, "value"])
            elif len(value) > 1024:
                errors.max_length([*fpath, "value"], 1024)
            total += _text_len(name) + _text_len(value)
    if total > 6000:
        errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_button(button: dict[str, Any], path: list[str | int], errors: FormErrors) -> None:
    style = button.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errors.add(
            [*path, "style"], "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."
        )
    if _text_len(button.get("label")) > 80:
        errors.max_length([*path, "label"], 80)
    if style == 5:
        url = button.get("url")
        if not url:
            errors.add([*path, "url"], "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        elif _text_len(url) > 512:
            errors.max_length([*path, "url"], 512)
        elif not _is_url(url) and not str(url).startswith("discord://"):
            errors.add([*path, "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if "custom_id" in button:
            errors.add(
                [*path, "custom_id"],
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A custom id is not allowed for link buttons",
            )
    elif style == 6:
        if "sku_id" not in button:
            errors.required([*path, "sku_id"])
    elif not button.get("custom_id"):
        errors.add(
            [*path, "custom_id"], "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required"
        )


def _validate_interactive(
    item: dict[str, Any], path: list[str | int], errors: FormErrors, seen: set[str]
) -> None:
    custom_id = item.get("custom_id")
    if isinstance(custom_id, str):
        if len(custom_id) > 100:
            errors.length_range([*path, "custom_id"], 1, 100)
        if custom_id in seen:
            errors.add(
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    ctype = item.get("type")
    if ctype == 2:
        _validate_button(item, path, errors)
    elif ctype in (3, 5, 6, 7, 8):
        if not custom_id:
            errors.required([*path, "custom_id"])
        if len(item.get("options") or []) > 25:
            errors.max_length([*path, "options"], 25)
        if _text_len(item.get("placeholder")) > 150:
            errors.max_length([*path, "placeholder"], 150)


def validate_components(components: Any, flags: int, errors: FormErrors) -> None:
    if not isinstance(components, list):
        errors.add(["components"], "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if flags & IS_COMPONENTS_V2:
        # Layout components: only the interactive leaves are checked here.
        def walk(node: Any, path: list[str | int]) -> None:
            if not isinstance(node, dict):
                return
            if node.get("type") in (2, 3, 5, 6, 7, 8):
                _validate_interactive(node, path, errors, seen)
            for key in ("components", "accessory", "component"):
                child = node.get(key)
                if isinstance(child, list):
                    for k, sub in enumerate(child):
                        walk(sub, [*path, key, k])
                elif isinstance(child, dict):
                    walk(child, [*path, key])

        for i, comp in enumerate(components):
            walk(comp, ["components", i])
        return
    if len(components) > 5:
        errors.max_length(["components"], 5)
    for i, row in enumerate(components):
        path: list[str | int] = ["components", i]
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.add(
                [*path, "type"], "UNION_TYPE_CHOICES", "Top-level components must be action rows."
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                [*path, "components"], "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        if len(children) > 5:
            errors.max_length([*path, "components"], 5)
        has_select = any(c.get("type") != 2 for c in children)
        if has_select and len(children) > 1:
            errors.add(
                [*path, "components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, child in enumerate(children):
            _validate_interactive(child, [*path, "components", j], errors, seen)


def validate_allowed_mentions(allowed: Any, errors: FormErrors) -> None:
    """Discord refuses `parse: ["users"]` together with a `users` list (and the same for roles)."""
    if not isinstance(allowed, dict):
        errors.add(["allowed_mentions"], "MODEL_TYPE_CONVERT", "Only dictionaries may be used")
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        listed = allowed.get(kind)
        if isinstance(listed, list) and len(listed) > 100:
            errors.max_length(["allowed_mentions", kind], 100)
        if kind in parse and listed:
            errors.add(
                ["allowed_mentions", "parse"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )


def validate_message(
    payload: dict[str, Any], *, has_files: bool = False, require_body: bool = True
) -> None:
    """Raises ApiError(50035) for bad fields, ApiError(50006) for an empty message."""
    errors = FormErrors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(["content"], "BASE_TYPE_STRING", "Must be a string.")
    elif isinstance(content, str) and len(content) > 2000:
        errors.max_length(["content"], 2000)
    if payload.get("embeds") is not None:
        validate_embeds(payload["embeds"], errors)
    if payload.get("allowed_mentions") is not None:
        validate_allowed_mentions(payload["allowed_mentions"], errors)
    flags = int(payload.get("flags") or 0)
    if payload.get("components") is not None:
        validate_components(payload["components"], flags, errors)
    errors.raise_if_any()
    if require_body and not (
        content
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or has_files
        or payload.get("attachments")
    ):
        raise empty_message()


def validate_thread_name(name: Any) -> None:
    errors = FormErrors()
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        errors.length_range(["name"], 1, 100)
    errors.raise_if_any()


def validate_choices(choices: Any, errors: FormErrors, path: list[str | int]) -> None:
    if not isinstance(choices, list):
        return
    if len(choices) > 25:
        errors.max_length(path, 25)
    for k, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.length_range([*path, k, "name"], 1, 100)
        value = choice.get("value") if isinstance(choice, dict) else None
        if isinstance(value, str) and len(value) > 100:
            errors.max_length([*path, k, "value"], 100)


def _validate_name(name: Any, path: list[str | int], errors: FormErrors) -> None:
    if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
        errors.add([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _validate_description(desc: Any, path: list[str | int], errors: FormErrors) -> None:
    if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
        errors.length_range([*path, "description"], 1, 100)


def _validate_options(
    options: list[dict[str, Any]], path: list[str | int], errors: FormErrors, depth: int
) -> None:
    if len(options) > 25:
        errors.max_length(path, 25)
    kinds = {o.get("type") for o in options}
    if kinds & {1, 2} and kinds - {1, 2}:
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        )
    seen_optional = False
    names: set[str] = set()
    for i, opt in enumerate(options):
        opath = [*path, i]
        _validate_name(opt.get("name"), opath, errors)
        _validate_description(opt.get("description"), opath, errors)
        if opt.get("name") in names:
            errors.add(
                [*opath, "name"],
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option name already exists",
            )
        names.add(opt.get("name", ""))
        otype = opt.get("type")
        if otype in (1, 2):
            allowed_child = {1} if otype == 2 else None
            if depth >= 2 or (otype == 2 and depth >= 1):
                errors.add(
                    [*opath, "type"],
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands cannot be nested this deeply",
                )
            children = opt.get("options") or []
            if allowed_child and any(c.get("type") not in allowed_child for c in children):
                errors.add(
                    [*opath, "options"],
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups may only contain sub-commands",
                )
            if otype == 1 and any(c.get("type") in (1, 2) for c in children):
                errors.add(
                    [*opath, "options"],
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands may not contain sub-commands",
                )
            _validate_options(children, [*opath, "options"], errors, depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                errors.add(
                    opath,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if opt.get("choices") is not None:
            validate_choices(opt["choices"], errors, [*opath, "choices"])
            if opt.get("autocomplete"):
                errors.add(
                    [*opath, "autocomplete"],
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete and choices are mutually exclusive",
                )


def validate_command(command: Any, errors: FormErrors, path: list[str | int]) -> None:
    if not isinstance(command, dict):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    ctype = command.get("type", 1)
    if ctype == 1:
        _validate_name(command.get("name"), path, errors)
        _validate_description(command.get("description"), path, errors)
    else:
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            errors.length_range([*path, "name"], 1, 32)
    _validate_options(command.get("options") or [], [*path, "options"], errors, 0)


def validate_commands(commands: Any) -> None:
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add([], "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
        return
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        validate_command(command, errors, [i])
        if isinstance(command, dict):
            key = (int(command.get("type", 1)), str(command.get("name")))
            if key in seen:
                errors.add(
                    [i, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add(key)
    errors.raise_if_any()
