from flask import Blueprint

bp = Blueprint("registries", __name__)
