"""Run configuration: one frozen dataclass, read from YAML (safe_load) and overridden by flags."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from generator.convention import parse_max_size
from generator.digests import CONFIGURED, algorithm_set
from generator.errors import ConfigError
from generator.export.settings import absolute_url, hepix_settings, site_exports
from generator.read.format_tables import DEFAULT_EXTENSION_FORMATS, DEFAULT_VM_FORMATS

DEFAULT_VMS = ("xen", "kvm", "virtualbox", "vmware", "qemu", "hyperv")
DEFAULT_OS_FAMILIES = (
    "sl",
    "slc",
    "rhel",
    "centos",
    "fedora",
    "ubuntu",
    "debian",
    "alma",
    "rocky",
    "suse",
    "opensuse",
)
DEFAULT_ARCHES = (
    "x86",
    "sparc",
    "arm",
    "alpha",
    "powerpc",
    "avr",
    "arm64",
    "aarch64",
    "ppc64",
    "riscv",
)
DEFAULT_WORD_SIZES = (8, 16, 32, 64, 128, 512)
DEFAULT_IGNORE = (".*", "lost+found")


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know; `None` repository means the bundled demo."""

    repository: Path | None = None
    output: Path = Path("site")
    state: Path | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    quiet: bool = False
    verify: bool = True
    base_url: str | None = None
    accept_removals: bool = False
    log_file: Path | None = None
    verbose: bool = False
    title: str = "STAR virtual machine images"
    known_vms: tuple[str, ...] = DEFAULT_VMS
    known_os: tuple[str, ...] = DEFAULT_OS_FAMILIES
    known_arch: tuple[str, ...] = DEFAULT_ARCHES
    known_word_sizes: tuple[int, ...] = DEFAULT_WORD_SIZES
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    vm_formats: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_VM_FORMATS)
    extension_formats: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: DEFAULT_EXTENSION_FORMATS
    )
    rehash_older_than: float | None = None
    rehash_budget: int | None = None
    private_output: Path | None = None
    private_base_url: str | None = None
    trusted_groups: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None
    hash_budget: int | None = None
    keep_cache: bool = False
    publish_command: str | None = None
    digests: tuple[str, ...] = CONFIGURED  # algorithms every read computes (md5 always)
    sign_with: str | None = None  # GnuPG key that signs the SUMS files and catalog.json
    download_base_url: str | None = None  # where the repository's files can be downloaded
    exports: tuple[str, ...] = ()  # formats written into the site with every build
    hepix: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def state_dir(self, repository: Path) -> Path:
        """The state directory: --state, else one per repository under XDG_STATE_HOME."""
        if self.state is not None:
            return self.state
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        key = hashlib.sha256(str(repository.resolve()).encode()).hexdigest()[:16]
        return Path(base) / "star-vm-catalog" / key


# YAML key (the flag's name) -> (dataclass field, converter)
def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a path (a non-empty string)")
    return Path(value).expanduser()


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def days(value: Any) -> float:
    """A number of days, 0 or more (`--rehash-older-than`)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("expected a number of days, 0 or more")
    return float(value)


def byte_size(value: Any) -> int:
    """A size with a unit, binary like image names: `200GB`, `1.5TB` (`--rehash-budget`)."""
    size = parse_max_size(value) if isinstance(value, str) else None
    if size is None:
        raise ValueError("expected a size with a unit, such as 500MB, 200GB or 2TB")
    return size


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _words(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("expected a list of non-empty strings")
    return tuple(v.lower() for v in value)


def _names(value: Any) -> tuple[str, ...]:
    """User or group names, kept as written (they are case-sensitive)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("expected a list of user or group names")
    return tuple(value)


def _owner_names(value: Any) -> tuple[str, ...]:
    names = _names(value)
    if not names:
        raise ValueError("expected at least one user name")
    return names


def _patterns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("expected a list of glob patterns")
    return tuple(value)


def _ints(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(type(v) is int and v > 0 for v in value):
        raise ValueError("expected a list of positive whole numbers")
    return tuple(value)


def _digest_names(value: Any) -> tuple[str, ...]:
    """`[md5, sha256, sha512]`: in a fixed order, md5 added when left out (the spec's digest)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("expected a list of digest algorithms such as [md5, sha256, sha512]")
    try:
        return algorithm_set(v.lower() for v in value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc


def _key_id(value: Any) -> str:
    """A GnuPG key id, fingerprint or e-mail: one word, never an option (`--...`)."""
    if not isinstance(value, str) or not value.strip() or value.startswith("-"):
        raise ValueError("expected a GnuPG key id, fingerprint or user id")
    return value.strip()


def _format_table(value: Any) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(f, str) for f in v)
        for k, v in value.items()
    ):
        raise ValueError("expected a mapping of names to lists of formats")
    return MappingProxyType({k.lower(): frozenset(f.lower() for f in v) for k, v in value.items()})


KEYS = {
    "repository": ("repository", _path),
    "output": ("output", _path),
    "state": ("state", _path),
    "jobs": ("jobs", _positive_int),
    "quiet": ("quiet", _bool),
    "no-verify": ("verify", lambda v: not _bool(v)),
    "base-url": ("base_url", _text),
    "accept-removals": ("accept_removals", _bool),
    "log-file": ("log_file", _path),
    "verbose": ("verbose", _bool),
    "title": ("title", _text),
    "known-vms": ("known_vms", _words),
    "known-os": ("known_os", _words),
    "known-arch": ("known_arch", _words),
    "known-word-sizes": ("known_word_sizes", _ints),
    "ignore": ("ignore", _patterns),
    "vm-formats": ("vm_formats", _format_table),
    "extension-formats": ("extension_formats", _format_table),
    "rehash-older-than": ("rehash_older_than", days),
    "rehash-budget": ("rehash_budget", byte_size),
    "private-output": ("private_output", _path),
    "private-base-url": ("private_base_url", _text),
    "trusted-groups": ("trusted_groups", _names),
    "owners": ("owners", _owner_names),
    "hash-budget": ("hash_budget", byte_size),
    "keep-cache": ("keep_cache", _bool),
    "publish-command": ("publish_command", _text),
    "digests": ("digests", _digest_names),
    "sign-with": ("sign_with", _key_id),
    "download-base-url": ("download_base_url", absolute_url),
    "exports": ("exports", site_exports),
    "hepix": ("hepix", hepix_settings),
}
FIELD_NAMES = {f.name for f in fields(Config)}


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a YAML config file into field values, naming every bad key in one error."""
    import yaml  # only when a file is given: plain runs start faster without it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"'{path}': cannot read configuration: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"'{path}': expected a mapping of option names to values")
    values, errors = {}, []
    for key, raw in data.items():
        if key not in KEYS:
            errors.append(f"unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
            continue
        name, convert = KEYS[key]
        try:
            values[name] = anchored(convert(raw), path.parent)
        except ValueError as exc:
            errors.append(f"key '{key}': {exc}, got {raw!r}")
    if errors:
        raise ConfigError(f"'{path}': " + "; ".join(errors))
    return values


def anchored(value: Any, folder: Path) -> Any:
    """A relative path read from a config file means one beside that file, never in the cwd.

    One rule for every path-valued key, so a key added later cannot miss it: `output: .`
    run from cron must not mean cron's working directory (often $HOME).
    """
    if isinstance(value, Path) and not value.is_absolute():
        return folder.absolute() / value
    return value


def load_config(config_file: Path | None, overrides: dict[str, Any]) -> Config:
    """File values first, then every flag the user actually gave."""
    values = read_config_file(config_file) if config_file else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - FIELD_NAMES
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    return checked_exports(replace(Config(), **values))


def checked_exports(config: Config) -> Config:
    """A HEPiX list names its endorser and where each image is downloaded: refuse one without."""
    if "hepix" not in config.exports:
        return config
    if config.download_base_url is None:
        raise ConfigError("exports: hepix needs download-base-url (every image needs hv:uri)")
    if not config.hepix:
        raise ConfigError("exports: hepix needs a hepix: mapping naming the list's endorser")
    return config
