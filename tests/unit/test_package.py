from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from deployer.errors import DeployError
from deployer.package import build_artifact, code_sha256, is_excluded

FILES = {"app.py": "print('hi')\n", "lib/util.py": "X = 1\n", "lib/data.json": "{}", "bin/run.sh": "#!/bin/sh\necho hi\n"}


def write_tree(root: Path, order: list[str], mtime: int) -> Path:
    root.mkdir()
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILES[name])
        os.utime(path, (mtime, mtime))
    (root / "bin/run.sh").chmod(0o755)
    return root


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_same_content_gives_same_bytes_whatever_times_and_order(tmp_path: Path) -> None:
    first = write_tree(tmp_path / "a", list(FILES), mtime=1_000_000)
    second = write_tree(tmp_path / "b", list(reversed(FILES)), mtime=1_700_000_000)
    (second / "lib/util.py").chmod(0o640)  # group/other bits are normalised too
    one, two = build_artifact(first), build_artifact(second)
    assert one.zip_bytes == two.zip_bytes
    assert one.sha256 == two.sha256


def test_entries_are_sorted_with_fixed_times_and_normalised_modes(tmp_path: Path) -> None:
    artifact = build_artifact(write_tree(tmp_path / "src", list(FILES), mtime=1_600_000_000))
    archive = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert archive.namelist() == sorted(FILES)
    modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["bin/run.sh"] == 0o100755
    assert modes["app.py"] == 0o100644
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert archive.read("lib/util.py").decode() == FILES["lib/util.py"]
    assert artifact.file_count == len(FILES) and artifact.kind == "directory"


def test_sha256_is_lambdas_base64_digest(tmp_path: Path) -> None:
    artifact = build_artifact(write_tree(tmp_path / "src", list(FILES), mtime=0))
    assert artifact.sha256 == base64.b64encode(hashlib.sha256(artifact.zip_bytes).digest()).decode()
    assert artifact.sha256 == code_sha256(artifact.zip_bytes)


def test_a_content_change_changes_the_hash(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    before = build_artifact(root).sha256
    (root / "app.py").write_text("print('changed')\n")
    assert build_artifact(root).sha256 != before


def test_excludes_and_the_always_excluded(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    for junk in (".git/config", "lib/__pycache__/util.cpython-312.pyc", "stray.pyc", "docs/readme.md", "tests/test_x.py", "notes.md"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk")
    artifact = build_artifact(root, exclude=("*.md", "tests/"))
    assert names(artifact.zip_bytes) == sorted(FILES)


@pytest.mark.parametrize(
    ("path", "patterns", "excluded"),
    [
        ("a/.git/x", (), True),
        ("x.pyc", (), True),
        ("deep/__pycache__/m.pyc", (), True),
        ("tests/unit/t.py", ("tests/",), True),
        ("src/tests/t.py", ("tests/",), True),
        ("testsuite.py", ("tests/",), False),
        ("README.md", ("*.md",), True),
        ("docs/guide.md", ("*.md",), True),
        ("docs/guide.md", ("docs/*",), True),
        ("app.py", ("*.md",), False),
    ],
)
def test_is_excluded(path: str, patterns: tuple[str, ...], excluded: bool) -> None:
    assert is_excluded(path, patterns) is excluded


def test_symlink_inside_the_source_is_followed(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    (root / "alias.py").symlink_to(root / "app.py")
    (root / "shared").symlink_to(root / "lib", target_is_directory=True)
    archive = zipfile.ZipFile(io.BytesIO(build_artifact(root).zip_bytes))
    assert archive.read("alias.py") == archive.read("app.py")
    assert "shared/util.py" in archive.namelist()


def test_symlink_escaping_the_source_is_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    secret = tmp_path / "outside.txt"
    secret.write_text("secret")
    (root / "leak.txt").symlink_to(secret)
    with pytest.raises(DeployError, match=r"symlink .leak\.txt. points outside the source"):
        build_artifact(root)


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    (root / "lib" / "again").symlink_to(root / "lib", target_is_directory=True)
    assert "lib/util.py" in names(build_artifact(root).zip_bytes)


def test_a_ready_zip_is_used_byte_for_byte(tmp_path: Path) -> None:
    ready = tmp_path / "build.zip"
    with zipfile.ZipFile(ready, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("z.py", "z = 1")
        archive.writestr("a.py", "a = 1")
    artifact = build_artifact(ready)
    assert artifact.zip_bytes == ready.read_bytes()
    assert artifact.kind == "zip" and artifact.file_count == 2


def test_a_single_file_is_zipped_at_the_root(tmp_path: Path) -> None:
    single = tmp_path / "handler.py"
    single.write_text("def handler(e, c): pass\n")
    artifact = build_artifact(single)
    assert names(artifact.zip_bytes) == ["handler.py"] and artifact.kind == "file"


def test_requirements_need_a_python_runtime(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six\n")
    with pytest.raises(DeployError, match="requirements need a Python runtime"):
        build_artifact(root, requirements=requirements, runtime="nodejs20.x")


def make_wheel(directory: Path, name: str, module_text: str) -> Path:
    """A minimal pure-Python wheel, so vendoring is tested without any package index."""
    wheel = directory / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}.py": module_text,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(path, text)
    return wheel


def test_requirements_are_vendored_beside_the_code_for_the_target_platform(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinydep", "VALUE = 42\n")
    make_wheel(wheels, "app", "SHADOWED = True\n")  # a clash: the function's own app.py must win
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--no-index\n--find-links {wheels}\ntinydep==1.0\napp==1.0\n")
    artifact = build_artifact(root, requirements=requirements, runtime="python3.12", architecture="arm64")
    archive = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    assert archive.read("tinydep.py") == b"VALUE = 42\n"
    assert archive.read("app.py").decode() == FILES["app.py"]
    assert any(name.startswith("tinydep-1.0.dist-info/") for name in archive.namelist())
    again = build_artifact(root, requirements=requirements, runtime="python3.12", architecture="arm64")
    assert again.sha256 == artifact.sha256


def test_a_requirement_without_a_matching_wheel_is_explained(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--no-index\n--find-links {tmp_path}\nnot-there==9.9\n")
    with pytest.raises(DeployError, match=r"pip could not install the requirements for python3\.12/x86_64"):
        build_artifact(root, requirements=requirements, runtime="python3.12")


def test_a_file_name_that_is_not_utf8_is_refused_with_its_escaped_name(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.py").write_text("x = 1\n")
    os.close(os.open(os.fsencode(source) + b"/caf\xe9.py", os.O_CREAT | os.O_WRONLY))
    with pytest.raises(DeployError) as caught:
        build_artifact(source)
    assert "1 file name(s) in the source are not valid UTF-8: 'caf\\xe9.py'" in str(caught.value)
    assert build_artifact(source, exclude=("caf*",)).file_count == 1  # excluded, it is no longer in the way
