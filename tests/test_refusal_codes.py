"""Every refusal carries a code, and every code raised anywhere has words in Chinese and
English (the catalogue the packages register), read from the source so a new refusal without
words fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import hearings
from hearings.errors import HearingsError, catalogue, say

SOURCE = Path(hearings.__file__).parent
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _error_classes() -> set[str]:
    """The names of HearingsError and its subclasses, wherever they are defined."""
    names = {"HearingsError"}
    grew = True
    trees = [ast.parse(p.read_text()) for p in SOURCE.rglob("*.py")]
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                        for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


#: Calls whose first argument is a refusal code that a refusal carries on.
CODE_CARRIERS = {"IdentityError", "ScriptError", "problem", "_refuse"}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def raised_codes() -> tuple[set[str], list[str]]:
    """Every code the source raises, and the refusals whose code can't be read."""
    classes = _error_classes()
    codes: set[str] = set()
    unreadable: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "code" for t in node.targets
            ):  # code = {...}.get(what, "...")
                codes |= {
                    c.value for c in ast.walk(node.value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str) and "-" in c.value
                }  # fmt: skip
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            if name == "RoomRefusal":
                codes |= {k.value.value for k in node.keywords
                          if k.arg == "why" and isinstance(k.value, ast.Constant)}  # fmt: skip
                continue
            if name not in classes and name not in CODE_CARRIERS:
                continue
            if name in ("SignInThrottled",):  # says its own code
                continue
            first = node.args[0] if node.args else None
            where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.add(first.value)
            elif isinstance(first, ast.Attribute) and first.attr == "code":
                pass  # error.code: an IdentityError's or ScriptError's, collected above
            elif isinstance(first, ast.Name) and first.id == "code":
                pass  # a code chosen above (its candidates collected)
            else:
                unreadable.append(where)
    return codes, unreadable


def test_every_refusal_is_raised_with_a_code_not_a_sentence():
    codes, unreadable = raised_codes()
    assert unreadable == []
    assert len(codes) > 80
    sentences = sorted(c for c in codes if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c))
    assert sentences == []


def test_every_code_raised_has_words_in_chinese_and_english(app):
    codes, _ = raised_codes()
    words = catalogue()
    assert sorted(codes - words.keys()) == []
    with app.test_request_context("/"):
        for code in sorted(words):
            zh, en = say(code, {}, "zh"), say(code, {}, "en")
            assert zh and CJK.search(zh), code
            assert en and not CJK.search(en.replace("“", "").replace("”", "")), (code, en)
            assert "%(" not in zh + en + say(code, {}, "detail"), code


def test_a_code_is_said_by_one_package_only():
    from hearings.errors import Words, register_words

    with pytest.raises(ValueError, match="registered twice"):
        register_words({"already-recording": Words("另一句", "Another sentence")})


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing", None, 404, "not-found"),
        ("delete", "/api/v1/sessions", None, 405, "method-not-allowed"),
        ("post", "/api/v1/auth/token", "{", 400, "json-invalid"),
        ("post", "/api/v1/auth/token", "[]", 400, "json-not-object"),
        ("post", "/api/v1/auth/token", "{}", 422, "invalid-request"),
        ("get", "/api/v1/sessions", None, 401, "token-missing"),
    ],
)
def test_every_problem_document_has_a_code_with_words(client, method, path, body, status, code):
    response = getattr(client, method)(
        path, data=body, content_type="application/json" if body else None
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code and code in catalogue()


def test_a_refusal_may_not_shadow_a_field_of_the_problem_document():
    with pytest.raises(TypeError, match="status"):
        HearingsError("anything", status=3)
