# tmc: the two commands of the README's quick start, and the steps they share.
.PHONY: demo test qemu guest deps build clean

demo:
	scripts/demo.sh

test:
	scripts/test.sh

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
