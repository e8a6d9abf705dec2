from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from zlib_ng import zlib_ng

from deployer.errors import DeployError
from deployer.package import build_artifact, code_sha256, is_excluded, wheel_platforms
from deployer.zipwriter import STORED, Member, write_zip

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


def make_wheel(directory: Path, name: str, module_text: str, tag: str = "py3-none-any") -> Path:
    """A minimal wheel (pure Python, or tagged as a binary one), so vendoring is tested without any package index."""
    wheel = directory / f"{name}-1.0-{tag}.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}.py": module_text,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {str(tag == 'py3-none-any').lower()}\nTag: {tag}\n",
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


def unzip_test(data: bytes, tmp_path: Path) -> None:
    """The archive passes Info-ZIP's own integrity test, and zipfile's."""

    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    if shutil.which("unzip"):
        archive = tmp_path / "check.zip"
        archive.write_bytes(data)
        done = subprocess.run(["unzip", "-tq", str(archive)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def mixed_tree(root: Path) -> dict[str, bytes]:
    files = {
        "app.py": b"def handler(event, context):\n    return 'hello'\n" * 40,  # redundant text
        "data/config.json": json.dumps({f"k{i}": i * 1.5 for i in range(800)}).encode(),  # ordinary data
        "lib/native.so": random.Random(1).randbytes(200_000),  # incompressible
        "tiny.txt": b"x",
        "empty.txt": b"",
        "naïve/ünïcode.py": b"x = 1\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def test_members_are_stored_or_deflated_as_their_content_warrants_and_read_back_exactly(tmp_path: Path) -> None:
    files = mixed_tree(tmp_path / "src")
    artifact = build_artifact(tmp_path / "src")
    archive = zipfile.ZipFile(io.BytesIO(artifact.zip_bytes))
    methods = {info.filename: info.compress_type for info in archive.infolist()}
    assert methods["lib/native.so"] == zipfile.ZIP_STORED and methods["app.py"] == zipfile.ZIP_DEFLATED
    assert methods["data/config.json"] == zipfile.ZIP_DEFLATED
    assert {name: archive.read(name) for name in files} == files
    assert artifact.file_count == len(files) and artifact.unzipped_size == sum(map(len, files.values()))
    assert archive.getinfo("naïve/ünïcode.py").flag_bits & 0x800  # the UTF-8 name flag
    unzip_test(artifact.zip_bytes, tmp_path)


def test_zip64_records_are_written_when_the_format_needs_them(tmp_path: Path) -> None:

    many = [Member(f"f{i:05}", b"", 0, 0, STORED, 0o100644) for i in range(70_000)]  # more entries than 16 bits hold
    data = write_zip(many)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 70_000
    unzip_test(data, tmp_path)
    # Sizes and offsets past 4 GiB cannot be written here: lowering the limits takes the same paths.
    files = mixed_tree(tmp_path / "src")
    normal = zipfile.ZipFile(io.BytesIO(build_artifact(tmp_path / "src").zip_bytes))
    members = [Member(i.filename, normal.read(i.filename), i.CRC, i.file_size, STORED, 0o100644) for i in normal.infolist()]
    squeezed = write_zip(members, limit_32=1000, limit_16=3)
    archive = zipfile.ZipFile(io.BytesIO(squeezed))
    assert {name: archive.read(name) for name in files} == files
    assert any(info.extra.startswith(b"\x01\x00") for info in archive.infolist())  # zip64 extra fields
    unzip_test(squeezed, tmp_path)


def test_the_same_files_give_the_same_bytes_after_touching_them_and_making_them_in_another_order(tmp_path: Path) -> None:
    files = mixed_tree(tmp_path / "first")
    first = build_artifact(tmp_path / "first").zip_bytes
    for path in (tmp_path / "first").rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    assert build_artifact(tmp_path / "first").zip_bytes == first
    second = tmp_path / "second"
    for name in reversed(sorted(files)):
        (second / name).parent.mkdir(parents=True, exist_ok=True)
        (second / name).write_bytes(files[name])
    assert build_artifact(second).zip_bytes == first


def test_the_bytes_are_pinned_to_the_deflate_library(tmp_path: Path) -> None:
    """The zip's bytes depend on zlib-ng's version (pinned in requirements.lock); a
    different version would change every CodeSha256, and so publish every function again."""

    mixed_tree(tmp_path / "src")
    assert str(zlib_ng.ZLIBNG_VERSION) == "2.3.3"  # typed as int in its stubs, a str at run time
    assert build_artifact(tmp_path / "src").sha256 == GOLDEN_SHA256


GOLDEN_SHA256 = "61phhwnLMN0OXC82pw/h1uNl1fwmK8hYG9lhMEWvLzA="


@pytest.mark.parametrize(
    ("runtime", "architecture", "newest", "count"),
    [("python3.12", "x86_64", "manylinux_2_34_x86_64", 19), ("python3.13", "arm64", "manylinux_2_34_aarch64", 19),
     ("python3.11", "x86_64", "manylinux_2_26_x86_64", 11), ("python3.9", "arm64", "manylinux_2_26_aarch64", 11)],
)  # fmt: skip
def test_wheel_platforms_follow_the_runtimes_glibc(runtime: str, architecture: str, newest: str, count: int) -> None:

    platforms = wheel_platforms(runtime, architecture)
    assert platforms[0] == newest and len(platforms) == count and platforms[-1].startswith("manylinux2014_")
    assert f"manylinux_2_17_{'x86_64' if architecture == 'x86_64' else 'aarch64'}" in platforms


def test_a_package_with_only_a_manylinux_2_28_wheel_installs_for_python_3_12_not_3_11(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "src", list(FILES), mtime=0)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "newglibc", "VALUE = 2\n", tag="cp312-cp312-manylinux_2_28_x86_64")
    make_wheel(wheels, "newglibc311", "VALUE = 2\n", tag="cp311-cp311-manylinux_2_28_x86_64")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--no-index\n--find-links {wheels}\nnewglibc==1.0\n")
    artifact = build_artifact(root, requirements=requirements, runtime="python3.12", architecture="x86_64")
    assert "newglibc.py" in zipfile.ZipFile(io.BytesIO(artifact.zip_bytes)).namelist()
    requirements.write_text(f"--no-index\n--find-links {wheels}\nnewglibc311==1.0\n")
    with pytest.raises(DeployError, match=r"pip could not install the requirements for python3\.11/x86_64"):
        build_artifact(root, requirements=requirements, runtime="python3.11", architecture="x86_64")  # Amazon Linux 2's glibc is 2.26


def _zip_with(entries: list[tuple[str, str, bool]]) -> bytes:
    """A zip of (name, content, is_symlink) entries, written as given (no name cleaning)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content, link in entries:
            info = zipfile.ZipInfo(name)
            if link:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (("../../evil.py", "x", False), "climbs out with '..'"),
        (("lib/../../evil.py", "x", False), "climbs out with '..'"),
        (("/etc/evil.py", "x", False), "an absolute path"),
        (("C:/evil.py", "x", False), "an absolute path"),
        (("environ", "/proc/self/environ", True), "a symlink that leaves the archive (to /proc/self/environ)"),
        (("lib/up", "../../outside", True), "a symlink that leaves the archive"),
        ((".git/config", "token", False), "part of a .git folder"),
        (("vendor/.git/HEAD", "ref", False), "part of a .git folder"),
    ],
)
def test_a_ready_zip_that_escapes_or_carries_git_is_refused(tmp_path: Path, entry: tuple[str, str, bool], why: str) -> None:
    ready = tmp_path / "function.zip"
    ready.write_bytes(_zip_with([("handler.py", "x", False), entry]))
    with pytest.raises(DeployError) as caught:
        build_artifact(ready)
    assert why in str(caught.value) and f"'{entry[0]}'" in str(caught.value)


def test_a_ready_zip_with_links_that_stay_inside_is_used_byte_for_byte(tmp_path: Path) -> None:
    data = _zip_with([("handler.py", "x", False), ("lib/alias.py", "../handler.py", True), ("lib/.gitignore", "*", False)])
    (tmp_path / "function.zip").write_bytes(data)
    assert build_artifact(tmp_path / "function.zip").zip_bytes == data


def test_a_symlink_loop_is_an_input_error_naming_the_link(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text("x = 1\n")
    (source / "deep").mkdir()
    (source / "deep" / "a").symlink_to("b")
    (source / "deep" / "b").symlink_to("a")
    with pytest.raises(DeployError) as caught:
        build_artifact(source)
    assert "input 'source'" in str(caught.value) and "'deep/a' cannot be followed" in str(caught.value)
    (source / "deep" / "a").unlink()
    (source / "deep" / "b").unlink()
    (source / "deep" / "dangling").symlink_to("nowhere")  # leads nowhere: left out, as before
    assert build_artifact(source).file_count == 1
