"""Who sees which officers of the inspector directory, and which of their fields (DOMAIN §7).

Pure rules; the service layer turns a verified token into a `Reader`. An officer outside what a
reader sees is answered like a missing one, so its existence is not disclosed.
"""

from __future__ import annotations

from dataclasses import dataclass

from shuangsui.registry.domain.inspectors import Inspector


@dataclass(frozen=True)
class Shown:
    """An officer as one reader sees them: `personal` says whether the certificate number, the
    justice-database link and the conflicts (with the subjects they name) are shown."""

    inspector: Inspector
    personal: bool


@dataclass(frozen=True)
class Reader:
    """A reader of the directory.

    `region_prefix`: the region they see ("" = all). `keeps_directory`: national, provincial and
    department admins, who keep the directory and approve recusals, see every personal field of
    their region. `only_department`: a partner department's admin sees only that department's
    officers, personal fields included. `sub`: an officer sees their own personal fields. Station
    staff, reviewers, auditors and other officers see the eligibility facts only."""

    region_prefix: str
    keeps_directory: bool = False
    only_department: str | None = None
    sub: str = ""

    def department_filter(self, asked: str | None) -> str | None:
        """The department a listing is narrowed to: a partner admin's own, whatever was asked."""
        return asked if self.only_department is None else self.only_department

    def sees(self, inspector: Inspector) -> bool:
        record = inspector.record
        if not record.region_code.startswith(self.region_prefix):
            return False
        return self.only_department is None or record.department_type == self.only_department

    def sees_personal_data(self, inspector: Inspector) -> bool:
        if self.keeps_directory:
            return True
        department = inspector.record.department_type
        if self.only_department is not None and department == self.only_department:
            return True
        return self.sub == str(inspector.inspector_id)

    def show(self, inspector: Inspector) -> Shown:
        return Shown(inspector, self.sees_personal_data(inspector))
