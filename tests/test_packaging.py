#!/usr/bin/python3
"""Syntax and contents of the packaging metadata; one version everywhere.
Run with Debian's python3 (python3-yaml). The real ESP-IDF, Zephyr and
PlatformIO toolchains are not on these machines: this checks the files only."""
import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


header = open("utmstack.h").read()
m = re.search(r'#define UTMSTACK_VERSION_STRING "(\d+)\.(\d+)\.(\d+)"', header)
version = ".".join(m.groups())
for part, value in zip(("MAJOR", "MINOR", "PATCH"), m.groups()):
    need(re.search(r"#define UTMSTACK_VERSION_%s %s\n" % (part, value), header), "UTMSTACK_VERSION_%s" % part)
changelog = re.search(r"^## (\d+\.\d+\.\d+)", open("CHANGELOG.md").read(), re.M)
need(changelog and changelog.group(1) == version, "CHANGELOG.md's newest heading is not %s" % version)

lib = json.load(open("library.json"))
need(lib["version"] == version, "library.json version")
for h in lib["headers"]:
    need(os.path.exists(h), "library.json names missing %s" % h)
need(os.path.isdir(lib["build"]["includeDir"]), "library.json includeDir")
for pattern in lib["export"]["include"]:
    need(glob.glob(pattern), "library.json export names nothing for %s" % pattern)

idf = yaml.safe_load(open("idf_component.yml"))
need(idf["version"] == version, "idf_component.yml version")
for pattern in idf["files"]["include"]:
    need(glob.glob(pattern), "idf_component.yml names nothing for %s" % pattern)
cm = open("CMakeLists.txt").read()
need("idf_component_register(" in cm and "REQUIRES mbedtls" in cm, "CMakeLists.txt registers no ESP-IDF component")

mod = yaml.safe_load(open("zephyr/module.yml"))
need(os.path.exists(os.path.join(mod["build"]["cmake"], "CMakeLists.txt")), "zephyr module cmake dir")
need(os.path.exists(mod["build"]["kconfig"]), "zephyr module kconfig")
need("config UTMSTACK" in open(mod["build"]["kconfig"]).read(), "Kconfig symbol")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("metadata ok: version", version)
