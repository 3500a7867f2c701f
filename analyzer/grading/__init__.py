"""The five graded dimensions - memory, cpu, processes & handles, gc, cleanup - one module
each, plus ``session`` which grades a whole session with them and ``context`` which holds
what they share."""
