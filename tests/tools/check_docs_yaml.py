"""Parse every plugin's DOCUMENTATION/EXAMPLES/RETURN as YAML; print the first error of each."""
import ast
import glob
import sys

import yaml

bad = 0
for path in sorted(glob.glob("plugins/modules/*.py") + glob.glob("plugins/doc_fragments/*.py")):
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and \
                node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN", "ACTION_GROUP"):
            try:
                yaml.safe_load(node.value.value)
            except yaml.YAMLError as exc:
                bad += 1
                print("%s %s: %s" % (path, node.targets[0].id, str(exc).replace("\n", " ")))
sys.exit(1 if bad else 0)
