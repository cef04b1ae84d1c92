"""What operators see and do with the queue: `pressroom jobs`, `/metrics`."""

from __future__ import annotations

from pressroom.db.engine import Database
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
    def __init__(self, db: Database) -> None:
        self.db = db

    async def listing(self, which: str, limit: int = 20) -> list[JobSummary]:
        async with self.db.read() as conn:
            return await JobRepository(conn).listing(LISTINGS[which], limit)

    async def retry(self, job_id: int) -> None:
        """A failed job runs again, with its retry window renewed; anything else is refused."""
        async with self.db.write() as conn:
            if not await JobRepository(conn).retry_failed(job_id, utcnow()):
                raise NotFound(f"No failed job {job_id}")
        log.info("job_retry_requested", job_id=job_id)

    async def figures(self) -> QueueFigures:
        async with self.db.read() as conn:
            return await JobRepository(conn).figures(utcnow())
