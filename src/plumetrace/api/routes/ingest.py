"""Ingest over the API: the same jobs as ``plumetrace ingest`` (files are uploaded)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, UploadFile
from sqlalchemy import Engine

from plumetrace.api.deps import CurrentUser, SessionRoute, allow, app_engine, present
from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.io.evidence import parse_report, parse_time_option
from plumetrace.pipeline.ingest import (
    ingest_coverage_file,
    ingest_detections_file,
    ingest_report_record,
)
from plumetrace.store.ingest import FlightSpec, IngestResult

__all__ = ["router"]

router = APIRouter(tags=["ingest"], route_class=SessionRoute)

INGESTERS = ("analyst", "supervisor")
"""Who may bring evidence in."""

MAX_UPLOAD = 200 * 2**20
"""Largest detection or coverage file accepted (200 MB)."""

EngineDep = Annotated[Engine, Depends(app_engine)]


def _result(r: IngestResult) -> dict[str, Any]:
    return present(
        {
            **r.to_dict(),
            "sites_created_ids": r.sites_created,
            "sites_updated_ids": r.sites_updated,
        }
    )


def _spooled(upload: UploadFile, suffix: str) -> Path:
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidParameterError(f"upload larger than {MAX_UPLOAD // 2**20} MB")
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
    return Path(f.name)


@contextmanager
def _uploaded(name: str | None) -> Iterator[None]:
    """Turn a bad uploaded file into a 422 naming the upload, never a server path."""
    try:
        yield
    except FormatError as exc:
        raise InvalidParameterError(f"{name or 'upload'}: {exc.problem}") from None


class PassForm:
    """The form fields naming the pass an uploaded file belongs to."""

    def __init__(
        self,
        time: Annotated[str, Form(description="When the pass observed (ISO 8601, UTC)")],
        flight: Annotated[str, Form(description="Flight (pass) id")],
        platform: Annotated[str | None, Form(description="When the flight is new")] = None,
        sensor: Annotated[str | None, Form(description="When the flight is new")] = None,
        operator: Annotated[str | None, Form(description="When the flight is new")] = None,
    ) -> None:
        self.time = time
        self.flight = FlightSpec(flight, operator=operator, platform=platform, sensor=sensor)


PassFields = Annotated[PassForm, Depends()]


def _ingest_upload(
    job: Callable[..., IngestResult],
    engine: Engine,
    user: Any,
    file: UploadFile,
    form: PassForm,
    suffix: str,
) -> dict[str, Any]:
    path = _spooled(file, suffix)
    try:
        with _uploaded(file.filename):
            r = job(
                engine,
                path,
                time=parse_time_option(form.time),
                flight=form.flight,
                actor=user.name,
                name=file.filename,
            )
    finally:
        path.unlink(missing_ok=True)
    return _result(r)


@router.post("/api/ingest/detections", **allow(*INGESTERS))
def detections(
    engine: EngineDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="plumes.geojson or a locate RESULT.json")],
    form: PassFields,
) -> dict[str, Any]:
    """Ingest one pass's detections; idempotent like the CLI."""
    return _ingest_upload(ingest_detections_file, engine, user, file, form, ".json")


@router.post("/api/ingest/coverage", **allow(*INGESTERS))
def coverage(
    engine: EngineDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="FOOTPRINT.geojson")],
    form: PassFields,
) -> dict[str, Any]:
    """Ingest what a pass observed (negative evidence for the sites inside)."""
    return _ingest_upload(ingest_coverage_file, engine, user, file, form, ".geojson")


@router.post("/api/ingest/reports", **allow(*INGESTERS))
def report(
    engine: EngineDep,
    user: CurrentUser,
    body: Annotated[
        dict[str, Any],
        Body(
            description='{"id","time","lat","lon","uncertainty_m","source_reliability",'
            '"credibility","text","organization"}'
        ),
    ],
) -> dict[str, Any]:
    """Ingest a report from another source (Admiralty-graded)."""
    with _uploaded("report"):
        record = parse_report(body, "report")
    return _result(ingest_report_record(engine, record, actor=user.name))
