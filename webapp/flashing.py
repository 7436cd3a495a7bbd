"""A form post that runs one service step: flash its success or its refusal, then go back."""
from flask import flash, redirect

from .services import ServiceError


def flash_step(action, success, back: str):
    """Run one service step; flash its success message or its refusal, and go back to ``back``.
    ``success`` is a message, or a function of the step's result that makes one."""
    try:
        result = action()
        flash(success(result) if callable(success) else success, "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(back, 303)
