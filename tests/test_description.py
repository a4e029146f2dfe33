"""Descriptions: front matter fields, secrets removed, HTML that cannot run anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog.model import CATALOG_FIELDS
from generator.markup import render_markdown
from generator.read.description import read_description
from generator.redact import redact_text

KEY_BLOCK = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"


def describe(tmp_path: Path, text: str | bytes):
    path = tmp_path / "d.txt"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return read_description(path, "xen/d.txt", CATALOG_FIELDS)


def test_front_matter_fields_and_markdown(tmp_path: Path) -> None:
    description, problems = describe(
        tmp_path,
        "---\nkernel: 2.6.18\nMaintainer: STAR team\nbuilt: 2010-05-01\n---\n# Title\n\nSome *text*.\n",
    )
    assert problems == []
    assert description.fields == {
        "built": "2010-05-01",
        "kernel": "2.6.18",
        "maintainer": "STAR team",
    }
    assert "<h1>Title</h1>" in description.html and "<em>text</em>" in description.html


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("---\n[unclosed\n---\nbody", "invalid_front_matter"),
        ("---\n- a list\n---\nbody", "invalid_front_matter"),
        ("---\nstatus: fine\n---\nbody", "invalid_front_matter_key"),
        (b"caf\xe9 latin-1", "description_not_utf8"),
        ("x" * (300 * 1024), "description_too_large"),
    ],
)
def test_bad_descriptions_are_warnings_and_keep_the_text(
    tmp_path: Path, text: str | bytes, code: str
) -> None:
    description, problems = describe(tmp_path, text)
    assert [(p.code, p.severity) for p in problems] == [(code, "warning")]
    assert description.html


def test_yaml_is_safe_loaded(tmp_path: Path) -> None:
    _description, problems = describe(
        tmp_path, "---\nx: !!python/object/apply:os.system ['touch pwned']\n---\n"
    )
    assert [p.code for p in problems] == ["invalid_front_matter"]
    assert not (Path.cwd() / "pwned").exists()


def test_secrets_are_redacted_and_reported(tmp_path: Path) -> None:
    text = (
        "---\nroot_password: hunter2\nnote: uses SEED=frontSecret\n---\n"
        "Run: date '+%y%m SEED=someLongString' | md5sum | base64\n\n"
        f"{KEY_BLOCK}\n\npassword: letmein please\nThe passwd --stdin command reads stdin.\n"
    )
    description, problems = describe(tmp_path, text)
    rendered = description.html + str(description.fields) + description.text
    for secret in (
        "hunter2",
        "frontSecret",
        "someLongString",
        "b3BlbnNzaC1rZXktdjEAAAAA",
        "letmein",
    ):
        assert secret not in rendered
    assert "passwd --stdin" in description.text
    assert [p.message.split(" was")[0] for p in problems] == [
        "password seed on line 5", "private key on line 7", "password on line 11",
        "front matter value of 'root_password' on line 2",
        "front matter value of 'note' on line 3",
    ]  # fmt: skip
    assert all(p.code == "secret_redacted" and p.severity == "warning" for p in problems)


def test_secret_named_front_matter_keys_are_redacted(tmp_path: Path) -> None:
    description, problems = describe(tmp_path, "---\nseed_phrase: correct horse\n---\nbody\n")
    assert description.fields == {"seed_phrase": "(redacted)"}
    assert [p.message for p in problems] == [
        "front matter value of 'seed_phrase' on line 2 was removed before publishing"
    ]


def test_unterminated_private_key_is_redacted_to_the_end() -> None:
    text, found = redact_text("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nstill key")
    assert "MIIEow" not in text and "still key" not in text and "before" in text
    assert [r.kind for r in found] == ["private key"]


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://example.org"></iframe>',
        "<svg onload=alert(1)>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_sanitizer_removes_anything_that_runs(hostile: str) -> None:
    html = render_markdown(hostile).lower()
    for needle in ("<script", "onerror", "onload", "javascript:", "<iframe", "<svg", "style="):
        assert needle not in html


def test_one_text_leaves_nothing_behind_for_the_next() -> None:
    """The converter is reused: link definitions and stashed code of one text stay with it."""
    first = render_markdown(
        "[docs][1]\n\n[1]: https://www.star.bnl.gov/\n\n```\n<b>code</b>\n```\n"
    )
    second = render_markdown("[docs][1]\n")
    assert 'href="https://www.star.bnl.gov/"' in first and "&lt;b&gt;code" in first
    assert "href" not in second and second == "<p>[docs][1]</p>"


def test_the_sanitiser_built_once_cleans_as_nh3_clean_with_the_rules() -> None:
    import nh3

    from generator import markup

    dirty = (
        '<p onclick="x()">a <a href="javascript:alert(1)">b</a> <a href="https://x.org/" '
        'title="t" target="_blank">c</a><script>bad()</script><img src=x onerror=y>'
        '<table><tr><td align="left" style="color:red">d</td></tr></table><!-- note --></p>'
    )
    expected = nh3.clean(dirty, **markup.SANITIZER)
    assert markup._sanitizer()(dirty) == expected
    assert 'rel="noopener noreferrer nofollow"' in expected and "script" not in expected
