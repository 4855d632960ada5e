"""Per-sensor calibration: what a cheap sensor reads, corrected by what a technician measured.

A calibration is an offset and a gain per sensor and metric, set against a reference
instrument (`PUT /sensors/{id}/calibrations/{metric}`), versioned with who and when. The
bridge applies the newest version it has loaded to the value in the metric's canonical
unit: `value = gain * raw + offset`. The reading keeps the raw value and the version, so
the database holds both and a wrong calibration can be undone from the record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Calibration:
    version: int
    gain: float = 1.0
    offset: float = 0.0

    def apply(self, raw: float) -> float:
        return self.gain * raw + self.offset
