"""A process a test starts beside itself (a Celery worker, gunicorn): its log, waiting until it
answers, and stopping it."""

import subprocess
import time


class TestProcess:
    """`process` (Popen) writing to `log_path`; subclasses say what `answers()` means and `what` it is."""

    __test__ = False  # not a test class, whatever pytest makes of the name
    what = "the process"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def answers(self) -> bool:
        raise NotImplementedError

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.what} exited with {self.process.returncode}:\n{self.log()}")
            if self.answers():
                return
        raise AssertionError(f"{self.what} did not answer within {timeout} s:\n{self.log()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
