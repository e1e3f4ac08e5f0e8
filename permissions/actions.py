"""Every action the workbench can permit or refuse, as named constants.

Services ask ``check(actor, Action.X, resource)`` instead of testing role names, so a security
reviewer reads one list of actions here and one table of who holds them (``roles.yaml``). Each
action knows its *scope* (the whole site, or one project) and whether it exposes row-level patient
data, because those two facts are what the policy and its safety checks are built on: a site role
can never hold a project action, and a results-only role (collaborator) can never hold a row-level
one, whatever the YAML says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Action", "ActionInfo", "Scope", "ACTION_INFO", "SITE_ACTIONS", "PROJECT_ACTIONS", "ROW_LEVEL_ACTIONS"]


class Scope(StrEnum):
    """Where an action applies: the whole installation, or one project."""

    SITE = "site"
    PROJECT = "project"


class Action(StrEnum):
    """A thing a user may try to do. The value is what the audit log records."""

    # -- site --------------------------------------------------------------------------------
    PROJECT_CREATE = "project.create"
    ACCOUNT_CHANGE_OWN_PASSWORD = "account.change_own_password"
    ACCOUNTS_MANAGE = "accounts.manage"
    AUDIT_READ = "audit.read"
    # -- project: the project itself and its people ------------------------------------------
    PROJECT_VIEW = "project.view"
    PROJECT_EDIT_SETTINGS = "project.edit_settings"
    PROJECT_DELETE = "project.delete"
    PROJECT_READ_AUDIT = "project.read_audit"
    MEMBERS_VIEW = "members.view"
    MEMBERS_MANAGE = "members.manage"
    MEMBERS_INVITE = "members.invite"
    SHARING_MANAGE = "sharing.manage"
    # -- project: data ------------------------------------------------------------------------
    DATASET_UPLOAD = "dataset.upload"
    DATASET_VIEW_ROWS = "dataset.view_rows"
    DATASET_VIEW_PROFILE = "dataset.view_profile"
    DATASET_FLAG_COLUMNS = "dataset.flag_columns"
    DATASET_DOWNLOAD = "dataset.download"
    DATASET_DELETE = "dataset.delete"
    # -- project: preprocessing ---------------------------------------------------------------
    RECIPE_VIEW = "recipe.view"
    RECIPE_EDIT = "recipe.edit"
    RECIPE_PREVIEW = "recipe.preview"
    RECIPE_APPROVE = "recipe.approve"
    # -- project: training --------------------------------------------------------------------
    TRAINING_START = "training.start"
    TRAINING_OVERRIDE_HYPERPARAMETERS = "training.override_hyperparameters"
    TRAINING_OVERRIDE_SEARCH = "training.override_search"
    TRAINING_ADVANCED_SETTINGS = "training.advanced_settings"
    TRAINING_CANCEL = "training.cancel"
    TRAINING_VIEW_TRIALS = "training.view_trials"
    # -- project: results ---------------------------------------------------------------------
    RESULTS_VIEW = "results.view"
    RESULTS_VIEW_PREDICTIONS = "results.view_predictions"
    RESULTS_CHOOSE_MODEL = "results.choose_model"
    FIGURES_DOWNLOAD = "figures.download"
    TABLES_DOWNLOAD = "tables.download"
    PAPER_PACK_DOWNLOAD = "paper_pack.download"
    MODEL_DOWNLOAD = "model.download"
    MODEL_VALIDATE_EXTERNAL = "model.validate_external"
    MODEL_PREDICT = "model.predict"
    COMMENTS_READ = "comments.read"
    COMMENTS_WRITE = "comments.write"
    COMMENTS_MODERATE = "comments.moderate"

    @property
    def info(self) -> ActionInfo:
        return ACTION_INFO[self]

    @property
    def scope(self) -> Scope:
        return ACTION_INFO[self].scope

    @property
    def row_level(self) -> bool:
        return ACTION_INFO[self].row_level

    @property
    def description(self) -> str:
        return ACTION_INFO[self].description


@dataclass(frozen=True)
class ActionInfo:
    """What an action is for (English, for developers and reviewers; the UI uses the catalogue)."""

    scope: Scope
    row_level: bool
    description: str


_S, _P = Scope.SITE, Scope.PROJECT

ACTION_INFO: dict[Action, ActionInfo] = {
    Action.PROJECT_CREATE: ActionInfo(_S, False, "Create a new project and become its owner."),
    Action.ACCOUNT_CHANGE_OWN_PASSWORD: ActionInfo(_S, False, "Change one's own password."),
    Action.ACCOUNTS_MANAGE: ActionInfo(_S, False, "Create, deactivate and reactivate accounts, reset passwords, unlock."),
    Action.AUDIT_READ: ActionInfo(_S, False, "Browse, filter and download the site-wide audit log."),
    Action.PROJECT_VIEW: ActionInfo(_P, False, "See that the project exists: name, description, status."),
    Action.PROJECT_EDIT_SETTINGS: ActionInfo(_P, False, "Rename the project, change its settings (e.g. four-eyes approval)."),
    Action.PROJECT_DELETE: ActionInfo(_P, False, "Delete or archive the whole project."),
    Action.PROJECT_READ_AUDIT: ActionInfo(_P, False, "Read the audit events of this project (who saw and did what)."),
    Action.MEMBERS_VIEW: ActionInfo(_P, False, "See who is a member of the project and with which role."),
    Action.MEMBERS_MANAGE: ActionInfo(_P, False, "Invite members, change their role or expiry, revoke them."),
    Action.MEMBERS_INVITE: ActionInfo(_P, False, "Invite an e-mail address (single sign-on) with a role; see and revoke pending invitations."),
    Action.SHARING_MANAGE: ActionInfo(_P, False, "Choose which results collaborators see and whether they may validate the model."),
    Action.DATASET_UPLOAD: ActionInfo(_P, False, "Upload a table as a new dataset version."),
    Action.DATASET_VIEW_ROWS: ActionInfo(_P, True, "Page, sort and filter patient rows in the data viewer."),
    Action.DATASET_VIEW_PROFILE: ActionInfo(_P, True, "See per-column profiles (ranges, histograms, rare values can single out a patient)."),
    Action.DATASET_FLAG_COLUMNS: ActionInfo(_P, False, "Flag columns as identifiers/PHI or change their types."),
    Action.DATASET_DOWNLOAD: ActionInfo(_P, True, "Download a dataset version or the analysis table as a file."),
    Action.DATASET_DELETE: ActionInfo(_P, False, "Delete a dataset version (e.g. uploaded by mistake)."),
    Action.RECIPE_VIEW: ActionInfo(_P, False, "Read the preprocessing steps of a recipe."),
    Action.RECIPE_EDIT: ActionInfo(_P, False, "Add, change or remove recipe steps (creates a new version)."),
    Action.RECIPE_PREVIEW: ActionInfo(_P, True, "Preview rows of the analysis table a recipe produces."),
    Action.RECIPE_APPROVE: ActionInfo(_P, False, "Approve a recipe so it may be trained on (the review gate)."),
    Action.TRAINING_START: ActionInfo(_P, False, "Start a training job with the recommended settings."),
    Action.TRAINING_OVERRIDE_HYPERPARAMETERS: ActionInfo(_P, False, "Fix or override model hyperparameters."),
    Action.TRAINING_OVERRIDE_SEARCH: ActionInfo(_P, False, "Change search ranges, model families, trial budget and metric."),
    Action.TRAINING_ADVANCED_SETTINGS: ActionInfo(_P, False, "Change splits, seeds, cross-validation scheme and compute device."),
    Action.TRAINING_CANCEL: ActionInfo(_P, False, "Cancel a running training job."),
    Action.TRAINING_VIEW_TRIALS: ActionInfo(_P, False, "See every trial of a search with its parameters and scores."),
    Action.RESULTS_VIEW: ActionInfo(_P, False, "See aggregate results: metrics, figures, tables, model card."),
    Action.RESULTS_VIEW_PREDICTIONS: ActionInfo(_P, True, "See per-patient predictions (out-of-fold and holdout)."),
    Action.RESULTS_CHOOSE_MODEL: ActionInfo(_P, False, "Choose the final model of a run."),
    Action.FIGURES_DOWNLOAD: ActionInfo(_P, False, "Download publication figures (aggregate figures only for collaborators)."),
    Action.TABLES_DOWNLOAD: ActionInfo(_P, False, "Download result tables (small counts suppressed for collaborators)."),
    Action.PAPER_PACK_DOWNLOAD: ActionInfo(_P, False, "Download the paper pack: figures, tables and methods text."),
    Action.MODEL_DOWNLOAD: ActionInfo(_P, True, "Download the model file (a fitted model can memorise training rows)."),
    Action.MODEL_VALIDATE_EXTERNAL: ActionInfo(_P, False, "Evaluate a shared model on one's own cohort."),
    Action.MODEL_PREDICT: ActionInfo(_P, False, "Use the risk calculator on values typed in by the user."),
    Action.COMMENTS_READ: ActionInfo(_P, False, "Read the discussion on the project's results."),
    Action.COMMENTS_WRITE: ActionInfo(_P, False, "Write comments on the project's results."),
    Action.COMMENTS_MODERATE: ActionInfo(_P, False, "Hide or delete anyone's comment."),
}

SITE_ACTIONS: frozenset[Action] = frozenset(a for a, i in ACTION_INFO.items() if i.scope is Scope.SITE)
PROJECT_ACTIONS: frozenset[Action] = frozenset(a for a, i in ACTION_INFO.items() if i.scope is Scope.PROJECT)
ROW_LEVEL_ACTIONS: frozenset[Action] = frozenset(a for a, i in ACTION_INFO.items() if i.row_level)
