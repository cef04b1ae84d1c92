"""What operators see and do with the queue: `pressroom jobs`, `/metrics`."""

from __future__ import annotations

from pressroom.db.units import UnitOfWork
from pressroom.jobs.models import JobStatus, JobSummary, QueueFigures
from pressroom.jobs.repository import JobRepository
from pressroom.kit.clock import utcnow
from pressroom.kit.errors import NotFound
from pressroom.kit.observability import get_logger

log = get_logger("pressroom.jobs")
LISTINGS = {
    "pending": (JobStatus.PENDING, JobStatus.RUNNING),
    "failed": (JobStatus.FAILED,),
    "recent": (JobStatus.SUCCEEDED,),
}


class JobService:
    async def listing(self, uow: UnitOfWork, which: str, limit: int = 20) -> list[JobSummary]:
        async with uow.read() as conn:
            return await JobRepository(conn).listing(LISTINGS[which], limit)

    async def retry(self, uow: UnitOfWork, job_id: int) -> None:
        """A failed job runs again, with its retry window renewed; anything else is refused."""
        async with uow.write() as conn:
            if not await JobRepository(conn).retry_failed(job_id, utcnow()):
                raise NotFound(f"No failed job {job_id}")
        log.info("job_retry_requested", job_id=job_id)

    async def figures(self, uow: UnitOfWork) -> QueueFigures:
        async with uow.read() as conn:
            return await JobRepository(conn).figures(utcnow())
