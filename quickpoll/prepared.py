"""Hot reads whose SQL the ORM writes once per thread, not once per request.

Building a queryset and compiling it to SQL costs several times the CPU of running it: for the
handful of reads every vote makes (its poll, the poll's options, the account behind a token)
that was most of the vote's Python. A PreparedQuery compiles its queryset the first time a thread
runs it and keeps the compiler: later calls send the same SQL with new parameters and build the
model instances as Django's own ModelIterable does (select_related included). The rows are read
fresh every time: nothing is cached but the SQL, so a closed poll or a deactivated account is
seen as soon as it commits.

Per thread, because a compiler holds its thread's database connection.
"""

import threading
from typing import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators


class PreparedQuery:
    """`build(*args)` makes the queryset; its SQL's parameters must be exactly `args`, compared with `fields`."""

    def __init__(self, build: Callable[..., QuerySet], *fields: Field):
        self._build = build
        self._fields = fields
        self._local = threading.local()

    def all(self, *args) -> list[Model]:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = _Compiled(self._build(*args), self._fields, args)
        return compiled.run(args)

    def first(self, *args) -> Model | None:
        found = self.all(*args)
        return found[0] if found else None


class _Compiled:
    def __init__(self, queryset: QuerySet, fields: tuple[Field, ...], args: tuple):
        self.db = queryset.db
        self.connection = connections[self.db]
        self.fields = fields
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()
        # The ORM may order a filter's terms its own way (by name): the SQL must take the arguments as given.
        if list(params) != self.parameters(args):
            raise ImproperlyConfigured(f"a prepared query's parameters must be its arguments alone, in order: {self.sql}")
        select, klass_info = self.compiler.select, self.compiler.klass_info
        self.model = klass_info["model"]
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.own_columns = slice(first, last)
        self.names = [column[0].target.attname for column in select[self.own_columns]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.converters = self.compiler.get_converters([column[0] for column in select])

    def parameters(self, args: tuple) -> list:
        return [field.get_db_prep_value(field.to_python(arg), self.connection) for field, arg in zip(self.fields, args, strict=True)]

    def run(self, args: tuple) -> list[Model]:
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, self.parameters(args))
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        found = []
        for row in rows:
            instance = self.model.from_db(self.db, self.names, row[self.own_columns])
            for populator in self.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found
