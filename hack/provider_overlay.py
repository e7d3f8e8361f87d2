"""Writes a `go build -overlay` that cuts the AWS provider down to the services cameo uses.

Two generated files of the provider's module list every service: the provider's service
packages (internal/provider/sdkv2/service_packages_gen.go) and the AWS client's SDK accessors
(internal/conns/awsclient_gen.go). The overlay keeps only the lines of the kept services and
SDK packages, so the linker leaves the rest out: ~7 minutes to build instead of 43.

    python3 provider_overlay.py SRC OUT --services s3 iam ... --sdk s3 iam ...
"""

import argparse
import json
import pathlib
import re
import sys

SERVICE_IMPORT = re.compile(r'^\s*"github\.com/hashicorp/terraform-provider-aws/internal/service/(\w+)"\s*$')
SERVICE_ENTRY = re.compile(r"^\s*(\w+)\.ServicePackage\(ctx\),\s*$")
SDK_IMPORT = re.compile(r'^\s*(?:(\w+)\s+)?"github\.com/aws/aws-sdk-go-v2/service/(\w+)"\s*$')
SDK_ACCESSOR = re.compile(r"^func \(c \*AWSClient\) \w+\(ctx context\.Context\) \*(\w+)\.Client \{$")


def service_packages(text: str, keep: set[str]) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        match = SERVICE_IMPORT.match(line) or SERVICE_ENTRY.match(line)
        if match is None or match.group(1) in keep:
            lines.append(line)
    return "".join(lines)


def aws_client(text: str, keep: set[str]) -> str:
    lines, skipping = [], False
    for line in text.splitlines(keepends=True):
        if skipping:
            skipping = line.rstrip() != "}"
            continue
        imported = SDK_IMPORT.match(line)
        if imported and (imported.group(1) or imported.group(2)) not in keep:
            continue
        accessor = SDK_ACCESSOR.match(line.rstrip())
        if accessor and accessor.group(1) not in keep:
            skipping = True
            continue
        lines.append(line)
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=pathlib.Path, help="the provider module's folder")
    parser.add_argument("out", type=pathlib.Path, help="where to write the overlay")
    parser.add_argument("--services", nargs="+", required=True)
    parser.add_argument("--sdk", nargs="+", required=True)
    args = parser.parse_args()

    cuts = {
        "internal/provider/sdkv2/service_packages_gen.go": (service_packages, set(args.services)),
        "internal/conns/awsclient_gen.go": (aws_client, set(args.sdk)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    replace = {}
    for relative, (cut, keep) in cuts.items():
        original = (args.src / relative).read_text()
        reduced = cut(original, keep)
        if reduced == original:
            print(f"provider_overlay: {relative} did not change; has its layout moved?", file=sys.stderr)
            return 1
        target = args.out / relative.replace("/", "_")
        target.write_text(reduced)
        replace[str((args.src / relative).resolve())] = str(target.resolve())
    (args.out / "overlay.json").write_text(json.dumps({"Replace": replace}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
