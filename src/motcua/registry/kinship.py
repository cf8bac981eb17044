"""Kinship from the registry's own links (mother_pin, father_pin, spouse_pin): how one person
stands to another. Used by the relation check of declarations and by a household's change of
head."""

from __future__ import annotations

from motcua.registry.models import Citizen, Relation

SELF, SPOUSE, CHILD, PARENT, SIBLING = "self", "spouse", "child", "parent", "sibling"
GRANDCHILD, GRANDPARENT = "grandchild", "grandparent"

# Kinship in the words of a household register (relation to the head).
HOUSEHOLD_RELATION = {
    SPOUSE: Relation.SPOUSE,
    CHILD: Relation.CHILD,
    PARENT: Relation.PARENT,
    SIBLING: Relation.SIBLING,
    GRANDCHILD: Relation.GRANDCHILD,
    GRANDPARENT: Relation.GRANDPARENT,
}


def _parents(person: Citizen) -> set[str]:
    return {person.mother_pin, person.father_pin} - {""}


def kinship(person: Citizen, other: Citizen) -> str | None:
    """How `other` stands to `person`: "self", "spouse" (the current one), "child" (other's
    mother or father is person), "parent", "sibling" (at least one parent in common),
    "grandchild", "grandparent"; None when the registry's links do not say. At most one query
    (the parents' parents, for the last two)."""
    if person.pk == other.pk:
        return SELF
    if other.pk and (person.spouse_pin == other.pk or other.spouse_pin == person.pk):
        return SPOUSE
    if person.pk in (other.mother_pin, other.father_pin):
        return CHILD
    if other.pk in (person.mother_pin, person.father_pin):
        return PARENT
    own, theirs = _parents(person), _parents(other)
    if own & theirs:
        return SIBLING
    if not own and not theirs:
        return None
    grand = {
        pk: {mother, father} - {""}
        for pk, mother, father in Citizen.objects.filter(pk__in=own | theirs).values_list(
            "pk", "mother_pin", "father_pin"
        )
    }
    if any(person.pk in grand.get(parent, set()) for parent in theirs):
        return GRANDCHILD
    if any(other.pk in grand.get(parent, set()) for parent in own):
        return GRANDPARENT
    return None
