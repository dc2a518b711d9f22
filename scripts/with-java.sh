#!/usr/bin/env bash
# Run a command with tmc's JDK (Temurin 25, language level 21) and Maven settings.
set -euo pipefail
export JAVA_HOME=${TMC_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || { echo "with-java.sh: no JDK at $JAVA_HOME (set TMC_JAVA_HOME)" >&2; exit 1; }
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
exec "$@"
