"""Class mode's state in the serving process: which class, its join code, who holds the teacher's cookie,
and the rate limits. Everything else about the class is in the log (service.classes).

The join code and the teacher's secret are new at each start and kept only here: the code in clear (the
teacher's overview shows it to the room) and as a hash, the secret as a hash only. Teachers' cookie tokens
are kept as hashes too; they last as long as this process.
"""

from service import classes
from web import codes
from web.limits import Bucket, Misses

PRESSES_PER_SECOND = 20  # per student: a person clicks a few times a second; a script that loops is held back
WRONG_CODES = 10  # per client address and minute, before join answers 429
WRONG_CODES_WINDOW = 60.0


class Classroom:
    def __init__(self, name: str, class_id: str, lesson: str, max_students: int, join_address: str):
        self.name, self.id, self.lesson = name, class_id, lesson
        self.max_students, self.join_address = max_students, join_address
        self.code = codes.new_code()
        self.code_digest = codes.digest(self.code)
        self.teachers: set[str] = set()  # digests of the teacher cookies handed out
        self.students: dict[str, str] = {}  # token digest -> shown name, of tokens the log has confirmed
        self.presses = Bucket(PRESSES_PER_SECOND)
        self.wrong_codes = Misses(WRONG_CODES, WRONG_CODES_WINDOW)
        self._secret_digest = ""
        # the tokens of this process's joins under way: each join counts them as seats taken (service.classes
        # .join), so joins racing for the last seats never seat more than max_students, and none waits for
        # another (across several serving processes on one PostgreSQL database, seats may overshoot by the
        # number of processes joining at that moment; the sessions' UNIQUE names still settle shown names)
        self.joining: set[str] = set()

    @classmethod
    def open(cls, log, name: str, lesson: str | None, settings: dict, max_students: int,
             join_address: str) -> tuple["Classroom", str]:
        """(the classroom, the teacher's secret): the class made or continued in the log (classes.open_class,
        which refuses settings that differ from the recorded ones). The secret is returned once, to print."""
        info = classes.open_class(log, name, lesson, **settings)
        room = cls(info.name, info.id, info.lesson, max_students, join_address)
        secret = codes.new_token()
        room._secret_digest = codes.digest(secret)
        return room, secret

    def is_secret(self, text: str) -> bool:
        return codes.same(text, self._secret_digest)

    def is_code(self, typed: str) -> bool:
        return codes.same(codes.typed_code(typed), self.code_digest)

    def new_teacher(self) -> str:
        """A fresh teacher cookie token; only its hash is kept."""
        token = codes.new_token()
        self.teachers.add(codes.digest(token))
        return token

    def is_teacher(self, token: str | None) -> bool:
        return token is not None and codes.digest(token) in self.teachers
