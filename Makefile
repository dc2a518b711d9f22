# tmc: the two commands of the README's quick start, and the steps they share.
.PHONY: demo test fuzz qemu guest deps build clean

demo:
	scripts/demo.sh

test:
	scripts/test.sh

# Jazzer fuzz tests (TMC_FUZZ_SECONDS each, default 300) and the QEMU (ASan) overlay driver; see scripts/fuzz.sh.
fuzz:
	scripts/fuzz.sh

deps:
	scripts/install-deps.sh

qemu:
	qemu-patch/build.sh

guest:
	scripts/build-guest.sh

build:
	scripts/with-java.sh mvn -B -ntp -DskipTests package

clean:
	scripts/with-java.sh mvn -B -ntp -q clean
	rm -rf .tmc/run
