"""docker-compose.yml is a valid Compose file, checked without Docker the way Compose checks it."""

from pathlib import Path

import pytest
import yaml

from devstack.compose_check import check, main
from devstack.compose_file import load

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_docker_compose_yml_is_valid() -> None:
    assert check(COMPOSE) == []


@pytest.mark.parametrize(
    ("service", "key", "value", "problem"),
    [
        ("api", "ports", 8000, "services.api.ports: must be a list, not 8000"),
        ("api", "colour", "blue", "services.api.colour: unknown key"),
        (
            "worker",
            "depends_on",
            {"payments": {"condition": "service_started"}},
            "services.worker.depends_on.payments: depends on undefined service 'payments'",
        ),
        (
            "postgres",
            "volumes",
            ["pgdata:/var/lib/postgresql/data"],
            "services.postgres.volumes[0]: undefined volume 'pgdata' (not declared)",
        ),
        (
            "postgres",
            "depends_on",
            ["migrate"],
            "services.postgres.depends_on: a dependency cycle: postgres -> migrate -> postgres",
        ),
    ],
)
def test_a_broken_copy_fails_naming_where(
    tmp_path: Path, service: str, key: str, value: object, problem: str
) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    compose["services"][service][key] = value

    copy = write(tmp_path / "docker-compose.yml", yaml.safe_dump(compose, sort_keys=False))

    assert check(copy) == [problem]


def test_a_merged_anchor_s_mistake_is_named_in_each_service_that_merges_it(
    tmp_path: Path,
) -> None:
    text = (
        "x-app: &app\n  image: oms\n  colour: blue\nservices:\n  a: {<<: *app}\n  b: {<<: *app}\n"
    )

    assert check(write(tmp_path / "c.yml", text)) == [
        "services.a.colour: unknown key",
        "services.b.colour: unknown key",
    ]


def test_scalars_read_as_compose_reads_them_not_as_yaml_1_1(tmp_path: Path) -> None:
    text = "services:\n  a:\n    image: oms\n    restart: no\n    ports: [80:80, 8000]\n"

    assert load(write(tmp_path / "c.yml", text)) == {
        "services": {"a": {"image": "oms", "restart": "no", "ports": ["80:80", 8000]}}
    }
    assert check(tmp_path / "c.yml") == []


def test_a_key_given_twice_fails_naming_its_line(tmp_path: Path) -> None:
    text = "services:\n  a:\n    image: oms\n    image: other\n"

    assert check(write(tmp_path / "c.yml", text)) == ["line 4: duplicate key 'image'"]


def test_variables_are_interpolated_as_compose_does(tmp_path: Path) -> None:
    text = 'services:\n  a:\n    image: "oms:${TAG:-dev}"\n    command: "echo $$HOME $USER"\n'

    compose = load(write(tmp_path / "c.yml", text), environ={"USER": "ada"})

    assert compose == {"services": {"a": {"image": "oms:dev", "command": "echo $HOME ada"}}}


def test_a_dotenv_beside_the_file_gives_variables_the_environment_does_not(
    tmp_path: Path,
) -> None:
    write(tmp_path / ".env", "OMS_TEST_TAG_FROM_DOTENV=1.2\nEMPTY=\n")
    text = "services:\n  a:\n    image: oms:${OMS_TEST_TAG_FROM_DOTENV}${EMPTY}\n"

    assert load(write(tmp_path / "c.yml", text)) == {"services": {"a": {"image": "oms:1.2"}}}


def test_a_required_variable_that_is_unset_fails_naming_where(tmp_path: Path) -> None:
    text = "services:\n  a:\n    image: ${IMAGE:?set IMAGE}\n"

    assert check(write(tmp_path / "c.yml", text)) == [
        "services.a.image: required variable IMAGE is missing a value: set IMAGE"
    ]


def test_the_command_prints_valid_or_each_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path / "broken.yml", "services:\n  a:\n    build: .\n    ports: 8000\n")

    assert main([str(COMPOSE)]) == 0
    assert main([str(broken)]) == 1

    out, err = capsys.readouterr()
    assert out == f"{COMPOSE}: valid\n"
    assert err == f"{broken}: services.a.ports: must be a list, not 8000\n"
