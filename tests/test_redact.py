"""Redaction: every rule with a positive and a near-miss fixture, and no secret in any output.

The rules are unit-tested on text, then a real repository holding every fixture is built by
the real CLI, and every byte it leaves (site, state, log, stderr) is searched for each secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.catalog.model import CATALOG_FIELDS
from generator.problems import WARNING, Problem
from generator.read.description import MAX_DESCRIPTION_BYTES, read_description
from generator.read.scan import scan
from generator.read.withhold import CLEARED_TOGETHER, withhold_secret_names
from generator.redact import Normalised, find_secrets, may_hold_secret, redact_text
from generator.redact_rules import RULES
from generator.site.render import Layout
from tests.conftest import FIXED_NS, ROOT, build_site, image_entries, run_cli, sums, write_tree


@dataclass(frozen=True)
class Case:
    """A text holding `secrets`; `kept` is ordinary text that must survive around them."""

    text: str
    secrets: tuple[str, ...]
    kept: str = ""
    to_end: bool = False  # an unclosed quote or key block: removed to the end of its paragraph


# rule name -> (positive case, near-miss text the rule must leave alone)
FIXTURES: dict[str, tuple[Case, str]] = {
    "pem-private-key": (
        Case("-----BEGIN RSA PRIVATE KEY-----\nMIIEpemBodyQ1\n-----END RSA PRIVATE KEY-----\nafter the key", ("MIIEpemBodyQ1",), "after the key"),
        "-----BEGIN PUBLIC KEY-----\nMIIBpublicOnly\n-----END PUBLIC KEY-----",
    ),
    "putty-private-key": (
        Case("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3Nz\n"
             "Private-Lines: 1\nAAAAputtyBodyQ2\nPrivate-MAC: 0a1b2c3d\nLoad it in Pageant.",
             ("AAAAputtyBodyQ2", "0a1b2c3d"), "Load it in Pageant."),
        "Save the key as a PuTTY-User-Key-File (ppk) with PuTTYgen.",
    ),
    "shadow-hash": (
        Case("root:$6$saltsalt$shadowQ3hashXYZ:19000:0:99999:7:::", ("shadowQ3hashXYZ", "saltsalt"), ":19000:0:99999"),
        "It costs $6 a month, or $5$ off with a coupon.",
    ),
    "seed-assignment": (
        Case("export ROOT_SEED=seedQ4value && reboot", ("seedQ4value",), "&& reboot"),
        "SEED_SIZE=10 and seedless=yes",
    ),
    "seed-colon": (
        Case("Root seed: seedQ5value", ("seedQ5value",), "Root seed:"),
        "Seeds: 3 per run; the seed of the idea.",
    ),
    "seed-setenv": (
        Case("setenv MYSEED seedQ6value", ("seedQ6value",), "setenv MYSEED"),
        "setenv SEEDDIR /tmp/seeds",
    ),
    "password-assignment": (
        Case("db_password = pwQ7value # for mysql", ("pwQ7value",), "# for mysql"),
        "bypass: the firewall, with compass=north",
    ),
    "password-prose": (
        Case("The root password is pwQ8value. Change it.", ("pwQ8value",), "Change it."),
        "The password is not published here; the password was changed.",
    ),
    "table-cell": (
        Case("| Root seed | seedQ19value |\n| kernel | 2.6 |", ("seedQ19value",), "| kernel | 2.6 |"),
        "| passwords | none are kept here |",
    ),
    "table-column": (
        Case("| account | root seed | notes |\n|---|:---:|---|\n| root | seedQ20value | monthly |\n| star | seedQ21value | |",
             ("seedQ20value", "seedQ21value"), "| monthly |"),
        "| account | passwords | notes |\n|---|---|---|\n| root | none kept | monthly |",
    ),
    "chpasswd": (
        Case("echo 'root:pwQ9value' | chpasswd", ("pwQ9value",), "| chpasswd"),
        "chpasswd < /root/users.list",
    ),
    "chpasswd-here-string": (
        Case("chpasswd <<< 'star:pwQ10value'", ("pwQ10value",), "chpasswd <<< 'star:"),
        'chpasswd <<< "$LINE"',
    ),
    "passwd-stdin": (
        Case('echo "pwQ11value" | passwd --stdin root', ("pwQ11value",), "| passwd --stdin root"),
        "The passwd --stdin command reads the password from its input.",
    ),
    "passwd-stdin-here-string": (
        Case("passwd --stdin star <<< pwQ12value", ("pwQ12value",), "passwd --stdin star <<<"),
        "passwd --stdin star < /root/pw.txt",
    ),
    "usermod-p": (
        Case("usermod -p pwQ13value star", ("pwQ13value",), "usermod -p"),
        "usermod -aG wheel star -P /chroot",
    ),
    "sshpass-p": (
        Case("sshpass -p pwQ14value ssh star@vmhost", ("pwQ14value",), "ssh star@vmhost"),
        "sshpass -f /root/.pw ssh star@vmhost",
    ),
    "openssl-passwd": (
        Case("openssl passwd -6 -salt abc pwQ15value", ("pwQ15value",), "openssl passwd -6 -salt abc"),
        "openssl passwd -6 -stdin < pw.txt",
    ),
    "mkpasswd": (
        Case("mkpasswd -m sha-512 pwQ22value", ("pwQ22value",), "mkpasswd -m sha-512"),
        "mkpasswd -m sha-512 --stdin < pw.txt",
    ),
    "password-option": (
        Case("vmctl --passwd pwQ23value --host x", ("pwQ23value",), "--host x"),
        "vmctl --password-file /root/pw --host x",
    ),
    "mysql-p": (
        Case("mysql -u root -ppwQ24value star", ("pwQ24value",), "star"),
        "mysql -u root -p star",
    ),
    "curl-user": (
        Case("curl -u star:pwQ25value https://vm.example.org", ("pwQ25value",), "https://vm.example.org"),
        "curl -u star https://vm.example.org",
    ),
    "ssh-keygen-n": (
        Case("ssh-keygen -t ed25519 -N 'pwQ26value' -f key", ("pwQ26value",), "-f key"),
        "ssh-keygen -t ed25519 -N '' -f key",
    ),
    "aws-access-key-id": (
        Case("aws_access_key_id = AKIAQWERTYUIOPQ16ZZ9 for S3", ("AKIAQWERTYUIOPQ16ZZ9",), "for S3"),
        "AKIA1234 is short and akiaqwertyuiopasdfgh is lower case",
    ),
    "secret-key": (
        Case("aws_secret_access_key = wJalrQ17EXAMPLEKEYabcdefghijklmnopqrstu",
             ("wJalrQ17EXAMPLEKEYabcdefghijklmnopqrstu",), "aws_secret_access_key ="),
        "secretary: Jane Doe keeps the secrets",
    ),
    "url-password": (
        Case("git clone https://star:pwQ18value@git.example.org/vm.git", ("pwQ18value",), "@git.example.org/vm.git"),
        "https://git.example.org:8443/vm.git",
    ),
}  # fmt: skip

# The spellings people use for the spec's seed, and disguises: each must be redacted too.
VARIANTS: dict[str, Case] = {
    "ROOT_SEED=": Case("ROOT_SEED=vq1z", ("vq1z",)),
    "MYSEED=": Case("MYSEED=vq2z then", ("vq2z",), "then"),
    "seed:": Case("seed: vq3z", ("vq3z",)),
    "Root seed:": Case("Root seed: vq4z", ("vq4z",)),
    "SEED = x": Case("SEED = vq5z ok", ("vq5z",), "ok"),
    "backticks": Case("Use SEED=`vq6z` here", ("vq6z",), "here"),
    "unclosed quote": Case('SEED="vq7z and more\nvq7zb', ("vq7z", "vq7zb"), to_end=True),
    "multi-line quote": Case('SEED="vq8za\nvq8zb" done', ("vq8za", "vq8zb"), "done"),
    "JSON": Case('{"SEED": "vq9z", "user": "star"}', ("vq9z",)),
    "code fence": Case("```\ndate '+%y%m SEED=vq10z' | md5sum\n```", ("vq10z",), "| md5sum"),
    "HTML comment": Case("<!-- SEED=vq11z -->", ("vq11z",)),
    "HTML entity": Case("S&#69;ED=vq12z", ("vq12z",)),
    "URL escape": Case("S%45ED=vq13z", ("vq13z",)),
    "full-width": Case("ＳＥＥＤ=vq14z", ("vq14z",)),
    "zero-width": Case("S\u200bEED=vq15z", ("vq15z",)),
    "Cyrillic": Case("\u0405\u0415\u0415D=vq16z", ("vq16z",)),
    "escaped =": Case("SEED&#61;vq17z", ("vq17z",)),
    "spec command": Case("date '+%y%m SEED=vq18z' | md5sum | base64", ("vq18z",), "| md5sum | base64"),
    "OpenSSH key": Case("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaQ19\n-----END OPENSSH PRIVATE KEY-----", ("b3BlbnNzaQ19",)),
    "unterminated key": Case("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIQ20\nkeyRestQ20", ("MIIQ20", "keyRestQ20"), to_end=True),
    "yescrypt": Case("hash $y$j9T$vq21zsalt$abcdefgh", ("vq21zsalt",)),
    "bcrypt": Case("hash $2b$12$vq22zabcdefghijklmnop", ("vq22zabcdefghijklmnop",)),
    "md5crypt": Case("hash $1$vq23zs$abcdefghijk", ("vq23zs",)),
    "sha256crypt": Case("hash $5$vq24zs$abcdefghijk", ("vq24zs",)),
    "printf chpasswd": Case("printf 'root:vq25z\\n' | sudo chpasswd", ("vq25z",)),
    "usermod --password": Case("usermod --password vq26z star", ("vq26z",), "star"),
    "useradd -p": Case("useradd -m -p 'vq27z' star", ("vq27z",), "star"),
    "sshpass -pX": Case("sshpass -pvq28z ssh host", ("vq28z",), "ssh host"),
    "password for user": Case("The password for star is `vq29z`.", ("vq29z",)),
    "generic secret_key": Case("secret_key: vq30z", ("vq30z",)),
    "ASIA key": Case("ASIAQWERTYUIOPVARQ31", ("ASIAQWERTYUIOPVARQ31",)),
    "bold key": Case("**SEED**=vq33z and more", ("vq33z",), "and more"),
    "is:": Case("The password is: vq34z today", ("vq34z",), "today"),
    "=>": Case("{:password => 'vq35z'}", ("vq35z",)),
    "pw:": Case("pw: vq37z", ("vq37z",)),
    "MYSQL_PWD": Case("export MYSQL_PWD=vq38z", ("vq38z",)),
    "SSHPASS": Case("SSHPASS=vq39z sshpass -e ssh host", ("vq39z",), "sshpass -e ssh host"),
    "token": Case("GITHUB_TOKEN=vq40z make", ("vq40z",), "make"),
    "inline HTML value": Case("SEED=<code>vq41z</code> end", ("vq41z",), "end"),
    "inline HTML key": Case("<b>SEED</b>=<i>'vq42z'</i> end", ("vq42z",), "end"),
    "YAML plain block": Case("password:\n  vq36z\nnext line", ("vq36z",), "next line"),
    "YAML block": Case("password: |\n  vq32za\n  vq32zb\nafter", ("vq32za", "vq32zb"), "after"),
}  # fmt: skip


def test_every_rule_has_a_positive_and_a_near_miss_fixture() -> None:
    assert sorted(FIXTURES) == sorted(rule.name for rule in RULES)


def test_every_rule_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert all(f"| `{rule.name}` |" in readme for rule in RULES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_rule_redacts_its_positive_fixture(name: str) -> None:
    case = FIXTURES[name][0]
    text, found = redact_text(case.text)
    rule = next(rule for rule in RULES if rule.name == name)
    assert rule.pattern.search(Normalised(case.text).text)
    assert not any(secret in text for secret in case.secrets), text
    assert case.kept in text and found


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_rule_leaves_its_near_miss_alone(name: str) -> None:
    near_miss = FIXTURES[name][1]
    rule = next(rule for rule in RULES if rule.name == name)
    assert rule.pattern.search(Normalised(near_miss).text) is None
    assert redact_text(near_miss) == (near_miss, [])


def test_each_match_holds_one_of_its_rules_words() -> None:
    """find_secrets runs a rule only on paragraphs holding its words: no match may lack them."""
    texts = [case.text for case, _ in FIXTURES.values()] + [c.text for c in VARIANTS.values()]
    for rule in RULES:
        for text in texts:
            normal = Normalised(text).text
            for match in rule.pattern.finditer(normal):
                assert any(word in match[0].lower() for word in rule.words), (rule.name, text)
    cases = [c for c, _ in FIXTURES.values()] + [c for c in VARIANTS.values() if not c.to_end]
    text = redact_text("\n\nBetween.\n\n".join(c.text for c in cases))[0]
    assert not [secret for case in cases for secret in case.secrets if secret in text]
    assert text.count("Between.") == len(cases) - 1


@pytest.mark.parametrize("label", sorted(VARIANTS))
def test_every_spelling_is_redacted(label: str) -> None:
    case = VARIANTS[label]
    original = f"Intro words.\n\n{case.text}\n\nOutro words."
    text, found = redact_text(original)
    assert not any(secret in text for secret in case.secrets), text
    assert text.startswith("Intro words.\n") and (case.to_end or text.endswith("Outro words."))
    line = original.split(case.secrets[0])[0].count("\n") + 1  # the case starts on line 3
    assert case.kept in text and len(found) == 1 and 3 <= found[0].line <= line


def test_the_published_text_is_the_original_minus_the_secret() -> None:
    text, _ = redact_text("Ｎote: Ｓ&#69;ED=abc\u200bdef then ｆｕｌｌ-width text")
    assert text == "Ｎote: Ｓ&#69;ED=(redacted) then ｆｕｌｌ-width text"


def test_a_problem_message_is_redacted_where_it_is_made() -> None:
    problem = Problem(
        "xen/a_SEED=pathQ1.img", "secret_redacted", WARNING, "quotes SEED=msgQ2", "SEED=hintQ3"
    )
    assert "Q1" not in problem.path and "Q2" not in problem.message and "Q3" not in problem.hint
    assert problem.line() == "'xen/a_SEED=(redacted)': warning: quotes SEED=(redacted) (SEED=(redacted))"  # fmt: skip


PLAIN_IMAGE = "xen/sl6_x86_64_sl13b_8GB_plain.img"
SECRET_NAME = "xen/sl6_x86_64_sl13b_8GB_SEED=nameQ40.img"
FRONT_MATTER = (
    "---\nkernel: 2.6.32\ncredentials: {seed: fmQ41}\nusers:\n  - name: root\n    password: fmQ42\n"
    "  - {name: star, passwd: fmQ43}\nnote: uses SEED=fmQ44\n---\nFront matter intro.\n"
)
UTF16_TEXT = "UTF16 intro.\nSEED=utfQ45\nUTF16 outro.\n"
ALL_CASES = {f"rule {name}": case for name, (case, _) in FIXTURES.items()} | {
    f"variant {label}": case for label, case in VARIANTS.items()
}
EXTRA_SECRETS = ("nameQ40", "fmQ41", "fmQ42", "fmQ43", "fmQ44", "utfQ45", "utfQ46", "sumQ47", "cmtQ48")  # fmt: skip


def _stem(index: int) -> str:
    return f"sl6_x86_64_sl13b_8GB_r{index}"


def description_of(index: int, case: Case) -> str:
    return f"Intro{index} words.\n\n{case.text}\n\nOutro{index} words.\n"


def fixture_files() -> dict[str, bytes | str]:
    """One image per case, plus front matter, UTF-16, a named secret, a bad checksum, a comment."""
    files: dict[str, bytes | str] = {}
    for index, case in enumerate(ALL_CASES.values()):
        files[f"xen/{_stem(index)}.img"] = f"image {index}\n"
        files[f"xen/{_stem(index)}.txt"] = description_of(index, case)
    files |= {
        "xen/sl6_x86_64_sl13b_8GB_fm.img": "fm\n",
        "xen/sl6_x86_64_sl13b_8GB_fm.txt": FRONT_MATTER,
        "xen/sl6_x86_64_sl13b_8GB_utf16.img": "u\n",
        "xen/sl6_x86_64_sl13b_8GB_utf16.txt": UTF16_TEXT.encode("utf-16"),
        "xen/sl6_x86_64_sl13b_8GB_utf16nobom.img": "v\n",
        "xen/sl6_x86_64_sl13b_8GB_utf16nobom.txt": UTF16_TEXT.replace("Q45", "Q46").encode("utf-16-le"),
        SECRET_NAME: "named\n",
        "xen/sl6_x86_64_sl13b_8GB_badsum.img": "b\n",
        "xen/sl6_x86_64_sl13b_8GB_badsum.checksum": "SEED=sumQ47 is not a checksum line\n",
        "xen/sl6_x86_64_sl13b_8GB_cmt.img": "c\n",
        "xen/sl6_x86_64_sl13b_8GB_cmt.txt": "Comment intro.\n<!-- private note cmtQ48 -->\nComment outro.\n",
    }  # fmt: skip
    return files


@dataclass
class Built:
    """Everything a build left behind: the files of the site and state, the log, the output."""

    site: Path
    state: Path
    log: Path
    output: str
    large_site: Path

    def leaks(self, secret: str) -> list[str]:
        """Every place the secret's bytes occur."""
        found = [f"{path}" for path in self.files() if secret.encode() in path.read_bytes()]
        return found + (["stderr/stdout"] if secret in self.output else [])

    def files(self) -> list[Path]:
        trees = (self.site.parent / ".site.builds", self.state, self.large_site)
        return [self.log, *(p for tree in trees for p in tree.rglob("*") if p.is_file())]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two real CLI builds (the second adds every case, so the feed announces them) and a
    large-catalog build in process (search-index.json and listing pages)."""
    tmp = tmp_path_factory.mktemp("redaction")
    root, site, state, log = tmp / "repo", tmp / "site", tmp / "state", tmp / "run.log"
    write_tree(root, {PLAIN_IMAGE: "plain\n"})
    args = ("build", "--repository", str(root), "--output", str(site), "--state", str(state))
    first = run_cli(*args, "--log-file", str(log))
    assert first.returncode == 0, first.stderr
    write_tree(root, fixture_files())
    write_tree(root, {f"xen/{_stem(i)}.checksum": sums(f"{_stem(i)}.img") for i in range(len(ALL_CASES))})  # fmt: skip
    second = run_cli(*args, "--log-file", str(log))
    assert second.returncode == 1, second.stderr  # the secret in a name is an error
    large = tmp / "large" / "site"
    files = {k: v for i, c in enumerate(ALL_CASES.values()) for k, v in image_entries(f"xen/{_stem(i)}.img", description=description_of(i, c)).items()}  # fmt: skip
    build_site(
        write_tree(tmp / "large-repo", files, mtime_ns=FIXED_NS), large, layout=Layout(2, 2, 2)
    )
    return Built(site, state, log, first.stderr + second.stderr + second.stdout, large)


@pytest.mark.parametrize(
    "secret",
    sorted({s for case in ALL_CASES.values() for s in case.secrets} | set(EXTRA_SECRETS)),
)
def test_no_secret_reaches_the_site_the_state_the_log_or_stderr(built: Built, secret: str) -> None:
    assert built.leaks(secret) == []


def test_the_checks_see_every_output(built: Built) -> None:
    names = {p.name for p in built.files()}
    assert {"catalog.json", "feed.xml", "sitemap.xml", "search-index.json", "state.sqlite"} <= names
    assert "Added: xen/sl6_x86_64_sl13b_8GB_r0" in (built.site / "feed.xml").read_text()
    assert "the name holds a password seed" in built.log.read_text()


@pytest.mark.parametrize("label", sorted(ALL_CASES))
def test_ordinary_text_around_a_secret_stays(built: Built, label: str) -> None:
    index = list(ALL_CASES).index(label)
    catalog = json.loads((built.site / "catalog.json").read_text())
    image = next(i for i in catalog["images"] if i["id"] == f"xen/{_stem(index)}")
    assert ALL_CASES[label].kept in image["description"]
    page = (built.site / "images" / "xen" / _stem(index) / "index.html").read_text()
    assert f"Intro{index} words." in page
    assert ALL_CASES[label].to_end or f"Outro{index} words." in page
    problems = [p for p in catalog["problems"] if p["path"] == f"xen/{_stem(index)}.txt"]
    assert [p["code"] for p in problems] == ["secret_redacted"] * len(problems) != []
    assert all(" on line " in p["message"] for p in problems)


def test_front_matter_is_redacted_at_any_depth(built: Built) -> None:
    catalog = json.loads((built.site / "catalog.json").read_text())
    image = next(i for i in catalog["images"] if i["id"] == "xen/sl6_x86_64_sl13b_8GB_fm")
    assert image["kernel"] == "2.6.32" and image["credentials"] == "(redacted)"
    assert image["users"] == [{"name": "root", "password": "(redacted)"}, {"name": "star", "passwd": "(redacted)"}]  # fmt: skip
    assert image["note"] == "uses SEED=(redacted)"
    messages = {p["message"] for p in catalog["problems"] if p["path"].endswith("_fm.txt")}
    assert messages == {
        f"front matter value of '{key}' on line {line} was removed before publishing"
        for key, line in (("credentials", 3), ("users[0].password", 6), ("users[1].passwd", 7), ("note", 8))
    }  # fmt: skip


def test_utf16_descriptions_are_decoded_not_read_as_latin1(built: Built) -> None:
    catalog = json.loads((built.site / "catalog.json").read_text())
    for stem in ("utf16", "utf16nobom"):
        image = next(i for i in catalog["images"] if i["id"] == f"xen/sl6_x86_64_sl13b_8GB_{stem}")
        assert image["description"] == "UTF16 intro.\nSEED=(redacted)\nUTF16 outro."
        codes = {p["code"] for p in catalog["problems"] if p["path"].endswith(f"_{stem}.txt")}
        assert codes == {"description_not_utf8", "secret_redacted"}


def test_html_comments_are_dropped(built: Built) -> None:
    catalog = json.loads((built.site / "catalog.json").read_text())
    image = next(i for i in catalog["images"] if i["id"] == "xen/sl6_x86_64_sl13b_8GB_cmt")
    assert image["description"] == "Comment intro.\n\nComment outro."
    assert "<!--" not in (built.site / "images/xen/sl6_x86_64_sl13b_8GB_cmt/index.html").read_text()


def test_an_image_whose_name_holds_a_secret_is_left_out(built: Built) -> None:
    catalog = json.loads((built.site / "catalog.json").read_text())
    assert not any("SEED" in image["id"] for image in catalog["images"])
    [problem] = [p for p in catalog["problems"] if p["code"] == "secret_in_name"]
    assert problem["path"] == "xen/sl6_x86_64_sl13b_8GB_SEED=(redacted)"
    assert problem["severity"] == "error"
    assert "'xen/sl6_x86_64_sl13b_8GB_SEED=(redacted)': error: the name holds" in built.output
    assert not list((built.site / "images" / "xen").glob("*SEED*"))


def test_a_bad_checksum_line_is_reported_without_its_secret(built: Built) -> None:
    catalog = json.loads((built.site / "catalog.json").read_text())
    [problem] = [p for p in catalog["problems"] if p["code"] == "invalid_checksum"]
    assert problem["path"] == "xen/sl6_x86_64_sl13b_8GB_badsum.checksum"
    assert "sumQ47" not in problem["message"] + problem["hint"]
    assert "sumQ47" not in built.output


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
     ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-16-le", b""), ("utf-16-be", b"")],
)  # fmt: skip
def test_descriptions_are_decoded_as_their_bytes_say(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    path = tmp_path / "d.txt"
    path.write_bytes(bom + "Ünïcode intro.\nROOT_SEED=encQ60\n".encode(encoding))
    description, problems = read_description(path, "xen/d.txt", CATALOG_FIELDS)
    assert description.text == "Ünïcode intro.\nROOT_SEED=(redacted)"
    utf8 = encoding == "utf-8"
    assert [p.code for p in problems] == ["description_not_utf8"] * (not utf8) + ["secret_redacted"]


def test_a_description_cut_inside_a_character_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_bytes(b"SEED=cutQ61 " + "é".encode() * (MAX_DESCRIPTION_BYTES // 2))
    description, problems = read_description(path, "xen/d.txt", CATALOG_FIELDS)
    assert description.text.startswith("SEED=(redacted) éé")
    assert {p.code for p in problems} == {"description_too_large", "secret_redacted"}


def test_errors_on_stderr_and_in_the_log_are_redacted(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    missing = tmp_path / "SEED=cliQ62"
    done = run_cli("check", "--repository", str(missing), "--log-file", str(log))
    assert done.returncode != 0 and "SEED=(redacted)" in done.stderr
    assert "cliQ62" not in done.stderr + done.stdout + log.read_text()


@pytest.mark.parametrize("name", sorted(FIXTURES) + sorted(VARIANTS))
def test_a_clean_joined_text_clears_each_of_its_parts(name: str) -> None:
    """`may_hold_secret` of names joined by newlines (one test per image, `withhold`) is true
    whenever one of the names holds a secret, wherever it stands among them."""
    secret = FIXTURES[name][0].text if name in FIXTURES else VARIANTS[name].text
    plain = ["xen/sl6_x86_64_sl13b_8GB_plain.img", "xen/sl6_x86_64_sl13b_8GB_plain.txt"]
    assert find_secrets(secret) and may_hold_secret(secret)
    for at in range(len(plain) + 1):
        names = [*plain[:at], secret, *plain[at:]]
        assert may_hold_secret("\n".join(names)), names
    assert not may_hold_secret("\n".join(plain))  # the usual image: one test, no rule run


def test_secret_names_are_found_wherever_they_stand_among_many_images(tmp_path: Path) -> None:
    """Names are cleared `CLEARED_TOGETHER` images to a test; an image whose name holds a
    secret is left out (and reported) whichever group it falls in, the others kept in order."""
    count = CLEARED_TOGETHER + 60
    secret_at = {3, CLEARED_TOGETHER + 40}
    names = [
        f"kvm/sl6.{n}_x86_64_sl11d_20GB_{'SEED=nameQ' if n in secret_at else 'batch'}{n}.img"
        for n in range(count)
    ]
    files = {k: v for name in names for k, v in image_entries(name, b"x").items()}
    scanned = withhold_secret_names(scan(write_tree(tmp_path / "repo", files)))
    withheld = sorted(f"kvm/sl6.{n}_x86_64_sl11d_20GB_SEED=(redacted)" for n in secret_at)
    assert sorted(p.path for p in scanned.problems if p.code == "secret_in_name") == withheld
    ids = [entry.id for entry in scanned.images]
    assert len(ids) == count - len(secret_at) and ids == sorted(ids)
    assert not any("SEED" in image_id for image_id in ids)
