import factory
from factory.django import DjangoModelFactory, Password

from accounts.models import User

PASSWORD = "pw-Quick-1234"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    # Hashed while the row is built, so it is saved with it (no post-generation save).
    password = Password(PASSWORD)
