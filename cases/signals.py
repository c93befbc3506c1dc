"""Signals that let higher apps react to cases' writes without cases importing them."""

from django.dispatch import Signal

# Sent inside payment_record's transaction after a new payment is applied to its account, before a
# paid-off case is settled. Arguments: payment (cases.Payment). plans settles installments with it.
payment_recorded = Signal()
