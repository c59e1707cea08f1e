"""factory-boy factories. They write rows directly; tests of behaviour go through HTTP."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.db.models import F

from projects.models import Column, Label, Membership, Organization, Project, Sprint
from projects.services import columns_create_defaults
from tickets.models import Ticket
from tickets.services.placements import placement_add

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project owned by `owner` (a member with the owner role) with the default columns."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    owner_user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    path = factory.LazyAttribute(lambda p: p.name.lower().replace(" ", "-"))
    key = factory.Sequence(lambda n: f"P{n}")
    slug = factory.LazyAttribute(lambda p: p.key.lower())
    color = "#3B82F6"
    created_by = factory.LazyAttribute(lambda p: p.owner_user)

    @factory.post_generation
    def setup(obj, create, extracted, **kwargs):
        if not create:
            return
        Membership.objects.create(project=obj, user=obj.created_by or obj.owner_user, role=Membership.Role.OWNER)
        columns_create_defaults(project=obj)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"label{n}")
    color = "#EF4444"


class SprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sprint

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Sprint {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket at the end of the project's first column, numbered like the service would."""

    class Meta:
        model = Ticket

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Ticket {n}")
    reporter = factory.LazyAttribute(lambda t: t.project.created_by)
    column = factory.LazyAttribute(lambda t: t.project.columns.order_by("order").first())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        project = kwargs["project"]
        Project.objects.filter(pk=project.pk).update(ticket_counter=F("ticket_counter") + 1)
        project.refresh_from_db(fields=["ticket_counter"])
        kwargs.setdefault("number", project.ticket_counter)
        column: Column = kwargs["column"]
        last = column.tickets.order_by("-rank").values_list("rank", flat=True).first()
        kwargs.setdefault("rank", (last or 0) + 1024)
        ticket = super()._create(model_class, *args, **kwargs)
        # As ticket_create does: the board's history starts with the ticket (insights read it).
        placement_add(ticket=ticket, column=column, from_category=None, at=ticket.created_at)
        return ticket
