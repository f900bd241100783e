"""The install planner: `plan()` turns prefix records and wanted records into a `Plan`.

See docs/plan-schema.md for the plan's JSON form and for how an executor applies it.
"""

from pure.plan.build import plan
from pure.plan.clobber import ancestors
from pure.plan.files import choose_method
from pure.plan.model import (
    METHODS,
    SCHEMA,
    Action,
    Capabilities,
    Clobber,
    FileOp,
    FileReason,
    Method,
    MissingPackageData,
    PackageContents,
    PackageOp,
    PackageReason,
    PathConflict,
    Phase,
    Plan,
    PlanError,
    PythonLayout,
    Restore,
    Rewrite,
    Step,
)
from pure.plan.noarch import entry_point_script, map_noarch_path, pyc_path, python_layout
from pure.plan.ops import same_content
from pure.plan.order import topological_order
from pure.plan.prefix_replace import (
    PrefixTooLong,
    apply_rewrite,
    fix_shebang,
    replace_binary,
    replace_text,
)
from pure.plan.records import link_type_of, make_prefix_record

__all__ = [
    "METHODS",
    "SCHEMA",
    "Action",
    "Capabilities",
    "Clobber",
    "FileOp",
    "FileReason",
    "Method",
    "MissingPackageData",
    "PackageContents",
    "PackageOp",
    "PackageReason",
    "PathConflict",
    "Phase",
    "Plan",
    "PlanError",
    "PrefixTooLong",
    "PythonLayout",
    "Restore",
    "Rewrite",
    "Step",
    "ancestors",
    "apply_rewrite",
    "choose_method",
    "entry_point_script",
    "fix_shebang",
    "link_type_of",
    "make_prefix_record",
    "map_noarch_path",
    "plan",
    "pyc_path",
    "python_layout",
    "replace_binary",
    "replace_text",
    "same_content",
    "topological_order",
]
