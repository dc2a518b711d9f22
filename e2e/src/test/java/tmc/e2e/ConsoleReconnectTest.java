package tmc.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.support.ui.WebDriverWait;
import tmc.testkit.TestEnv;
import tmc.testkit.TestVm;

/**
 * The console rides out a VM restart: QEMU killed under an open console → "cannot be reached" with a countdown;
 * QEMU back → the console reconnects on its own, without a reload, and shows the screen again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleReconnectTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private TestVm vm;
    private E2eGateway gateway;

    @BeforeAll
    void start() throws Exception {
        vm = TestVm.builder().name("e2e-reconnect").qemu(TestEnv.qemu()).start();
        gateway = E2eGateway.start("reconnect", vms -> E2eGateway.vm(vms, "vm1", "acme", vm.vncPort(), null));
    }

    @AfterAll
    void stop() throws Exception {
        E2eGateway.closeAll(gateway, vm);
    }

    @Test
    void consoleReconnectsAfterTheVmRestarts() throws Exception {
        try (Browser browser = Browser.start("console-reconnect")) {
            browser.openConsole(gateway.console("vm1", E2eGateway.tenantToken("alice", "acme")), "connected", WAIT);
            browser.js("window.tmcTestMarker = 'same document';");

            vm.kill();
            browser.await("body[data-state=waiting]", WAIT);
            assertEquals("reason.4502", browser.noticeReason());
            assertTrue(browser.text("#notice-detail").contains("VNC server"), browser.text("#notice-detail"));

            long restartedAt = System.nanoTime();
            vm.restart();
            vm.serial().command("say back after a restart", Duration.ofSeconds(30));
            browser.await("body[data-state=connected]", WAIT);
            new WebDriverWait(browser.driver, WAIT).until(d -> !browser.find("#notice").isDisplayed());
            System.out.printf("RESULT console-reconnect afterRestartMs=%d%n",
                    (System.nanoTime() - restartedAt) / 1_000_000);
            assertEquals("Connected", browser.text("#status-text"));
            assertEquals("same document", browser.js("return window.tmcTestMarker;"), "no reload");
            assertTrue(browser.canvas() != null, "the screen is shown again");
        }
    }
}
