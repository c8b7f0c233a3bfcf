"""The shipped SROS2 policy (config/sros2/policy.xml) is well formed and grants every topic, service and
action the nodes' code uses, each to the enclave of the node that uses it. No DDS security here (the
PyPI wheels are built without it), so this reads the code: a new topic missing from the policy fails."""
import fnmatch
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "config" / "sros2" / "policy.xml"

# source file -> (enclave, namespace its relative names resolve in)
NODES = {"dro_ros/ros/nodes/agent_node.py": ("/dro_ros/agent", "/robot_0"),
         "dro_ros/ros/carrier.py": ("/dro_ros/agent", "/robot_0"),
         "dro_ros/ros/nodes/tracker_node.py": ("/dro_ros/tracker", "/robot_0"),
         "dro_ros/ros/nodes/fleet_sim_node.py": ("/dro_ros/fleet_sim", "/"),
         "dro_ros/ros/nodes/supervisor_node.py": ("/dro_ros/supervisor", "/"),
         "dro_ros/ros/nodes/scheduler_node.py": ("/dro_ros/scheduler", "/"),
         "dro_ros/ros/nodes/recorder_node.py": ("/dro_ros/recorder", "/"),
         "dro_ros/ros/mission_client.py": ("/dro_ros/mission_client", "/"),
         "dro_ros/ros/dropouts.py": ("/dro_ros/dropout_injector", "/"),
         "dro_ros/ros/chaos_run.py": ("/dro_ros/chaos_monitor", "/")}
SAMPLES = {"robot": "robot_0", "r": "robot_0", "truth_topic": "ground_truth"}   # values of f-string fields
NAME = r'(f?"[^"]*"|\w+\([^()]*\)|\w+)\s*[,)]'   # a string, a call such as inbox_topic(address), a variable
CALLS = re.compile(r"\b(create_publisher|create_subscription|create_service|create_client)\(\s*[^,]+,\s*" + NAME
                   + r"|\b(ActionServer|ActionClient)\(\s*[^,]+,\s*[^,]+,\s*" + NAME)
PERMISSION = {"create_publisher": "publish", "create_subscription": "subscribe", "create_service": "reply",
              "create_client": "request", "ActionServer": "execute", "ActionClient": "call"}
RULES = {"topics": ("topic", {"publish", "subscribe"}), "services": ("service", {"reply", "request"}),
         "actions": ("action", {"call", "execute"})}


def granted() -> dict[str, dict[str, list[str]]]:
    """enclave path -> permission (publish, subscribe, reply, request, call, execute) -> name patterns;
    asserts the sros2 policy format (version 0.2.0) on the way."""
    root = ElementTree.parse(POLICY).getroot()
    assert root.tag == "policy" and root.get("version") == "0.2.0"
    (enclaves,) = root
    assert enclaves.tag == "enclaves"
    grants: dict[str, dict[str, list[str]]] = {}
    for enclave in enclaves:
        assert enclave.tag == "enclave" and enclave.get("path", "").startswith("/")
        rules = grants.setdefault(enclave.get("path"), {})
        for profiles in enclave:
            assert profiles.tag == "profiles"
            for profile in profiles:
                assert profile.tag == "profile" and profile.get("ns") and profile.get("node")
                for group in profile:
                    item, permissions = RULES[group.tag]
                    assert set(group.attrib) <= permissions and group.attrib, group.attrib
                    assert set(group.attrib.values()) <= {"ALLOW", "DENY"}
                    names = [element.text.strip() for element in group]
                    assert names and all(element.tag == item for element in group)
                    assert all(name.startswith("/") for name in names), names   # no namespace guessing
                    for permission, rule in group.attrib.items():
                        if rule == "ALLOW":
                            rules.setdefault(permission, []).extend(names)
    return grants


def used() -> list[tuple[str, str, str, str]]:
    """(file, enclave, permission, fully qualified name) of every topic/service/action the code creates."""
    found = []
    for path in sorted((ROOT / "dro_ros").rglob("*.py")):
        source = path.read_text()
        calls = list(CALLS.finditer(source))
        file = str(path.relative_to(ROOT))
        if not calls:
            continue
        assert file in NODES, f"{file} creates ROS entities: map it to an enclave in NODES and the policy"
        enclave, namespace = NODES[file]
        for call in calls:
            kind, expression = (call.group(1), call.group(2)) if call.group(1) else (call.group(3), call.group(4))
            found.append((file, enclave, PERMISSION[kind], resolve(expression.strip(), namespace, file)))
    return found


def resolve(expression: str, namespace: str, file: str) -> str:
    if expression.startswith("inbox_topic("):
        return "/robot_1/dro/inbox"
    if expression == "topic" and file.endswith("recorder_node.py"):
        return "/any/topic/it/discovers"
    if expression.isupper():   # a module constant, e.g. SCENARIO_TOPIC = "/fleet/scenario"
        definitions = (re.search(rf'^{expression}\s*=\s*("[^"]*")', path.read_text(), re.M)
                       for path in (ROOT / "dro_ros").rglob("*.py"))
        expression = next(found.group(1) for found in definitions if found)
    literal = re.fullmatch(r'f?"([^"]*)"', expression)
    assert literal, f"{file}: cannot read the name {expression!r}; teach test_sros2_policy.resolve"
    name = re.sub(r"\{(\w+)\}", lambda field: SAMPLES[field.group(1)], literal.group(1))
    return name if name.startswith("/") else namespace.rstrip("/") + "/" + name


def test_the_policy_is_well_formed_with_one_enclave_per_node():
    assert set(granted()) == {enclave for enclave, _ in NODES.values()}


@pytest.mark.parametrize("file, enclave, permission, name", used(), ids=lambda value: str(value))
def test_every_topic_service_and_action_of_the_code_is_granted(file, enclave, permission, name):
    patterns = granted()[enclave].get(permission, [])
    assert any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns), \
        f"{file}: {permission} {name} is not granted to {enclave} in {POLICY.relative_to(ROOT)}"


def test_the_scan_sees_the_fleet_interfaces():
    names = {(permission, name) for _, _, permission, name in used()}
    assert {("subscribe", "/robot_1/dro/inbox"), ("execute", "/fleet/mission"), ("request", "/robot_0/agent/start_plan"),
            ("publish", "/robot_0/cmd_vel"), ("reply", "/schedule")} <= names
