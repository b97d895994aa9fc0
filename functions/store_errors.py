"""The store's file cannot be used: what went wrong, said to the organiser with the file and a way out.

SQLite's own words ("unable to open database file", "database disk image is malformed") name neither the
file nor what to do (issue 11 §2.12). The store adapter raises StoreUnavailable; the composition root and
the CLI turn it into a message in the campaign's language.
"""

from __future__ import annotations

from typing import Literal

from schemas.i18n import Language, t

StoreProblem = Literal["damaged", "unopenable", "read-only"]


class StoreUnavailable(Exception):
    def __init__(self, path: str, problem: StoreProblem, detail: str) -> None:
        super().__init__(f"{path}: {problem}: {detail}")
        self.path = path
        self.problem = problem
        self.detail = detail

    def message(self, lang: Language | None) -> str:
        """What happened to which file, and what the organiser can do about it."""
        if self.problem == "damaged":
            return f"{self.path}: " + t(
                lang,
                f"数据库文件已损坏，或不是 huizong 的数据库（{self.detail}）。请先停止所有 huizong 进程，"
                "把该文件改名保留（如改为 huizong.sqlite3.damaged），再从备份恢复；没有备份时，"
                "运行 huizong ingest 会新建数据库并从 inbox/ 中的文件重新入库（以前的催报记录会丢失）",
                f"the database file is damaged or is not a huizong database ({self.detail}). Stop every "
                "huizong process, rename the file to keep it (e.g. huizong.sqlite3.damaged), then restore it "
                "from a backup; without one, huizong ingest creates a new database and stores the files in "
                "inbox/ again (the record of reminders sent is lost)",
            )
        if self.problem == "read-only":
            return f"{self.path}: " + t(
                lang,
                f"数据库文件只读，本命令需要写入（{self.detail}）。请给该文件及其所在文件夹写权限，"
                "或用有权限的用户运行；huizong validate 和 huizong status 只需读权限",
                f"the database file is read-only and this command writes to it ({self.detail}). Give write "
                "access to the file and its folder, or run as a user who has it; huizong validate and "
                "huizong status need only read access",
            )
        return f"{self.path}: " + t(
            lang,
            f"无法打开数据库文件（{self.detail}）。请检查该文件及其所在文件夹是否存在、当前用户能否读写",
            f"the database file cannot be opened ({self.detail}). Check that the file and its folder "
            "exist and that this user may read and write them",
        )
