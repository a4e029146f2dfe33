"""From catalog to published site: refuse a vanished repository, render, publish only changes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator import failpoints
from generator.catalog.model import CATALOG_FIELDS, Catalog
from generator.errors import RepositoryVanished
from generator.identity import program_identity
from generator.problems import PROBLEM_ORDER
from generator.publish.catalog_lines import parsed_parts
from generator.publish.copies import Published, publish, published_key
from generator.publish.page_reuse import page_memo
from generator.publish.published import PublishedCatalog
from generator.publish.signing import signatures, signing_problem
from generator.read.description import unredacted
from generator.resources import content_dir
from generator.site.content import ContentPage, load_content
from generator.site.deferred import Chunked, parts_of
from generator.site.image_memo import ImageMemo
from generator.site.image_page import Audience
from generator.site.page_memo import view_bytes
from generator.site.records import compact_json, image_record, record_file_digest
from generator.site.render import render_site

# Losing more than this share of the published images in one run looks like an unmounted volume.
VANISH_SHARE = 0.5
VANISH_MINIMUM = 4  # below this many published images, every change is plausible


@dataclass(frozen=True)
class SiteTarget:
    """Where a site goes and the settings its pages show (from the run's configuration)."""

    output: Path
    title: str
    base_url: str | None = None
    private_base_url: str | None = None
    sign_with: str | None = None  # GnuPG key for the SUMS files' and catalog.json's signatures
    exports: tuple[str, ...] = ()  # `exports:` formats written into the public site
    hepix: Mapping[str, object] = field(default_factory=dict)  # the HEPiX list's publisher


def check_not_vanished(catalog: Catalog, known: frozenset[str], accept_removals: bool) -> None:
    """Raise instead of publishing when most known images disappeared at once."""
    if accept_removals or not known:
        return
    kept = len(known & {image.id for image in catalog.images})
    if not catalog.images or (
        len(known) >= VANISH_MINIMUM and kept < len(known) * (1 - VANISH_SHARE)
    ):
        raise RepositoryVanished(
            f"'{catalog.repository}': only {kept} of the {len(known)} published images are still "
            "there; keeping the published site (is the volume mounted?). If they were removed on "
            "purpose, run again with --accept-removals"
        )


def site_key(
    catalog: Catalog,
    target: SiteTarget,
    pages: list[ContentPage],
    records: list[str] | None = None,
) -> str:
    """Everything the pages are rendered from, but the clock: equal keys give equal sites.

    Comparing keys instead of rendered bytes lets a run that found nothing new skip rendering
    (seconds for 10,000 pages). `records`: the digests of the images' `image.json` files (each
    its catalog.json line), in order, when known (`ImageMemo.record_digests`).
    The program that renders is among it (`program_identity`: version, code, templates and
    libraries), as it is in every page's key: a patched renderer or an upgraded Markdown
    library republishes the site at once, and leaves every page's new key recorded.
    """
    digest = hashlib.sha256()
    urls = (target.base_url or "", target.private_base_url or "", target.sign_with or "")
    for part in (program_identity(), target.title, *urls, *(p.html for p in pages)):
        digest.update(part.encode() + b"\0")
    digest.update(repr((target.exports, sorted(target.hepix.items()))).encode() + b"\0")
    # The images as catalog.json holds them, each line by its digest (made with its pieces).
    if records is None:
        records = [record_file_digest(image_record(image)) for image in catalog.images]
    digest.update("\n".join(records).encode() + b"\n")
    rest = replace(catalog, generated_at="", images=[], problems=[])
    digest.update(compact_json(rest.to_json()).encode())
    # Problems and commands as their values' bytes (`view_bytes`, pickled in C): JSON or repr
    # of 15,000 problems and 10,000 commands cost 130 ms of every build at 10,000 images.
    problems = list(map(PROBLEM_ORDER, catalog.problems))
    digest.update(view_bytes(problems) or repr(problems).encode())
    digest.update(repr(catalog.events).encode())
    digest.update(repr(catalog.digests).encode())  # the SUMS files written
    # An image's record token stands for its commands (its record holds them): a kept image
    # unpacks them only when its page is made.
    commands = [i.record_token or (i.check, i.create_command) for i in catalog.images]
    digest.update(view_bytes(commands) or repr(commands).encode())
    return digest.hexdigest()


def deploy(
    catalog: Catalog,
    target: SiteTarget,
    previous: PublishedCatalog | None,
    images: ImageMemo | None = None,
) -> tuple[Catalog, Published]:
    """Publish the catalog; when nothing but the clock changed, write nothing at all.

    `generated_at` stays the time of the last real change, so caches and feeds stay quiet.
    `images`: what the site made of each image, kept by the image's key (`image_memo`).
    """
    pages = load_content(content_dir())
    unsigned = target.sign_with is not None and signing_problem(target.sign_with)
    if unsigned:  # shown in catalog.json and on the problems page too
        catalog = replace(catalog, problems=sorted({*catalog.problems, unsigned}))
    records = images.record_digests(catalog.images) if images is not None else None
    key = site_key(catalog, target, pages, records)
    if previous and previous.generated_at and published_key(target.output) == key:
        return replace(catalog, generated_at=previous.generated_at), Published(changed=False)
    memo = page_memo(target.output)
    files = render_site(
        catalog,
        pages,
        target.title,
        target.base_url,
        audience=public(target),
        memo=memo,
        images=images,
        defer=True,  # image pages made as they are written: never the whole site in memory
    )
    files.update(export_files(files["catalog.json"], target))
    failpoints.reach("rendering")
    if target.sign_with is not None and not unsigned:
        signed, failed = signatures(files, target.sign_with)
        files.update(signed)
        if failed:  # published unsigned; no key is kept, so the next run signs again
            catalog, key = replace(catalog, problems=sorted({*catalog.problems, failed})), ""
    return catalog, publish(files, target.output, key)


def export_files(catalog_file: bytes | Chunked, target: SiteTarget) -> dict[str, bytes]:
    """The `exports:` formats, made from the catalog.json being published, as `export` would:
    parsed a line at a time from the parts it is made in, never held whole beside its parse."""
    if not target.exports:
        return {}
    from generator.export import site_files
    from generator.export.settings import ExportSettings

    settings = ExportSettings(target.base_url, target.title, target.hepix)
    return site_files(parsed_parts(parts_of(catalog_file)), target.exports, settings)


def public(target: SiteTarget) -> Audience:
    return Audience(private=False, private_base_url=target.private_base_url)


def deploy_private(
    catalog: Catalog, target: SiteTarget, output: Path, images: ImageMemo | None = None
) -> Published:
    """The members-only copy: the same site with descriptions as written, swapped in the same way.

    Its key adds the unredacted texts to the public key, so an edit to a secret alone
    republishes this copy and leaves the public site untouched.
    """
    pages = load_content(content_dir())
    records = images.record_digests(catalog.images) if images is not None else None
    digest = hashlib.sha256(b"private\0" + site_key(catalog, target, pages, records).encode())
    for image in catalog.images:
        digest.update(image.private_text.encode() + b"\0")
    digest.update(catalog.generated_at.encode())
    key = digest.hexdigest()
    if published_key(output) == key:
        return Published(changed=False)
    audience = Audience(private=True, as_written=as_written(catalog))
    files = render_site(
        catalog,
        pages,
        target.title,
        target.private_base_url,
        audience=audience,
        memo=page_memo(output),
        images=images,
        defer=True,
    )
    return publish(files, output, key)


def as_written(catalog: Catalog) -> dict[str, tuple[dict, str]]:
    """Descriptions as written (seed commands included), for the members-only image pages.

    Only those pages show them: the copy's catalog.json, feed and search data stay redacted.
    """
    written = {}
    for image in catalog.images:
        if image.private_text:
            description = unredacted(image.private_text, CATALOG_FIELDS)
            written[image.id] = (description.fields, description.html)
    return written
