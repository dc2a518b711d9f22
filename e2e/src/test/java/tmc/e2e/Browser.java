package tmc.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;
import tmc.testkit.TestEnv;

/**
 * Debian's Chromium, headless, driven by Selenium through Debian's chromedriver, with a fresh profile each time.
 * Missing Chromium fails the test (install-deps.sh installs it); Selenium Manager never goes to the network
 * (webdriver.chrome.driver and SE_OFFLINE are set by the root pom's Surefire configuration).
 */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);

    /**
     * Counts the draws onto canvases in the page (noVNC's flip of its back buffer onto the visible canvas) and wakes
     * whoever waits for the next one; installed once per document, returns the count so far.
     */
    private static final String DRAWS = """
            const w = window;
            if (!w.tmcDraws) {
              const d = w.tmcDraws = {n: 0, waiters: []};
              const P = CanvasRenderingContext2D.prototype;
              for (const m of ['drawImage', 'putImageData', 'fillRect']) {
                const f = P[m];
                P[m] = function (...a) {
                  const r = f.apply(this, a);
                  if (this.canvas.isConnected) {
                    d.n++;
                    const ws = d.waiters;
                    d.waiters = [];
                    ws.forEach(x => x());
                  }
                  return r;
                };
              }
            }
            return w.tmcDraws.n;
            """;

    /** Answers (asynchronously) once the page has drawn more than arguments[0] times, or after arguments[1] ms. */
    private static final String AWAIT_DRAW = """
            const [since, ms, done] = arguments;
            const d = window.tmcDraws;
            if (!d || d.n > since) return done(null);
            const t = setTimeout(() => done(null), ms);
            d.waiters.push(() => { clearTimeout(t); done(null); });
            """;

    final ChromeDriver driver;
    private final ChromeDriverService service;
    private final Path profile;
    private final String name;
    private final List<String> console = new ArrayList<>();

    private Browser(String name, ChromeDriverService service, ChromeDriver driver, Path profile) {
        this.name = name;
        this.service = service;
        this.driver = driver;
        this.profile = profile;
    }

    static Browser start(String name) throws IOException {
        assertTrue(Files.isExecutable(CHROMIUM),
                "Chromium is missing at " + CHROMIUM + ": apt-get install -y chromium chromium-driver");
        assertTrue(Files.isExecutable(CHROMEDRIVER),
                "chromedriver is missing at " + CHROMEDRIVER + ": apt-get install -y chromium-driver");
        Path logs = TestEnv.buildDir().resolve("browser");
        Files.createDirectories(logs);
        Path profile = Files.createTempDirectory("tmc-chromium-" + name + "-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,960",
                "--lang=en-US", "--hide-scrollbars");
        options.setExperimentalOption("prefs", Map.of("intl.accept_languages", "en-US,en"));
        LoggingPreferences prefs = new LoggingPreferences();
        prefs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", prefs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(logs.resolve("chromedriver-" + name + ".log").toFile())
                .build();
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(SCRIPT_TIMEOUT); // awaitDraw's own bound comes first
            return new Browser(name, service, driver, profile);
        } catch (RuntimeException e) {
            service.stop();
            throw e;
        }
    }

    void open(String url) {
        driver.get(url);
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Runs an asynchronous script: its last argument is the callback that answers. */
    Object jsAsync(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
    }

    WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    List<WebElement> findAll(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** Waits for a CSS selector to match, polling every 20 ms; the message names what was awaited. */
    WebElement await(String css, Duration timeout) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(20))
                .withMessage(() -> "waiting for " + css + " on " + driver.getCurrentUrl())
                .until(d -> {
                    List<WebElement> found = d.findElements(By.cssSelector(css));
                    return found.isEmpty() ? null : found.get(0);
                });
    }

    /** Opens a console page and waits until it is in {@code state} (connected, waiting, failed). */
    void openConsole(String url, String state, Duration timeout) {
        open(url);
        await("body[data-state=" + state + "]", timeout);
    }

    /** Why the console's notice is shown: its reason key (reason.4401, reason.4502, ...). */
    String noticeReason() {
        return find("#notice").getAttribute("data-reason");
    }

    String text(String css) {
        return find(css).getText();
    }

    /** The noVNC canvas as an image (its backing store is the VM's framebuffer size). */
    BufferedImage canvas() {
        String url = (String) js("const c = document.querySelector('#screen canvas');"
                + "return c && c.width > 0 ? c.toDataURL('image/png') : null;");
        if (url == null) {
            return null;
        }
        byte[] png = Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1));
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The number of draws onto the page's canvases so far; pass it to {@link #awaitDraw}. */
    long draws() {
        return ((Number) js(DRAWS)).longValue();
    }

    /** Waits until the page draws onto a canvas after {@code mark}, or {@code timeout} passes (a new page: at once). */
    void awaitDraw(long mark, Duration timeout) {
        jsAsync(AWAIT_DRAW, mark, Math.max(1, timeout.toMillis()));
    }

    /**
     * The first non-null answer of {@code probe}, asked now and again after every draw onto the page's canvases
     * (a probe that depends on the picture sees each new one); null when {@code timeout} runs out first.
     */
    <T> T untilDrawn(Supplier<T> probe, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long mark = draws();
            T answer = probe.get();
            long left = deadline - System.nanoTime();
            if (answer != null || left <= 0) {
                return answer;
            }
            awaitDraw(mark, Duration.ofNanos(left));
        }
    }

    /** The first canvas picture {@code ok} accepts, checked after every draw; the last one seen when time runs out. */
    BufferedImage canvasUntil(Predicate<BufferedImage> ok, Duration timeout) {
        BufferedImage[] last = {null};
        BufferedImage accepted = untilDrawn(() -> {
            last[0] = canvas();
            return last[0] != null && ok.test(last[0]) ? last[0] : null;
        }, timeout);
        return accepted != null ? accepted : last[0];
    }

    /** Clicks framebuffer point (fx, fy) of the noVNC canvas, whatever its scaling on the page. */
    void clickCanvas(int fx, int fy) {
        pointCanvas(fx, fy, true);
    }

    /** Moves the mouse to framebuffer point (fx, fy) of the noVNC canvas and, with {@code click}, clicks there. */
    void pointCanvas(int fx, int fy, boolean click) {
        WebElement canvas = find("#screen canvas");
        @SuppressWarnings("unchecked")
        Map<String, Number> at = (Map<String, Number>) js(
                "const c = arguments[0], r = c.getBoundingClientRect();"
                        + "return {dx: (arguments[1] + 0.5) * r.width / c.width - r.width / 2,"
                        + "        dy: (arguments[2] + 0.5) * r.height / c.height - r.height / 2};",
                canvas, fx, fy);
        org.openqa.selenium.interactions.Actions a = new org.openqa.selenium.interactions.Actions(driver)
                .moveToElement(canvas, (int) Math.round(at.get("dx").doubleValue()),
                        (int) Math.round(at.get("dy").doubleValue()));
        (click ? a.click() : a).perform();
    }

    /** Writes a PNG of the window to the build directory's screenshots folder. */
    Path screenshot(String file) throws IOException {
        Path dir = TestEnv.buildDir().resolve("screenshots");
        Files.createDirectories(dir);
        Path out = dir.resolve(file);
        Files.write(out, driver.getScreenshotAs(OutputType.BYTES));
        return out;
    }

    /**
     * The browser console's messages since the browser started (errors, CSP violations, noVNC's log). Chromium
     * hands each entry out once; this keeps them.
     */
    List<String> consoleLog() {
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            console.add(e.getLevel() + " " + e.getMessage());
        }
        return List.copyOf(console);
    }

    /** Waits for a console message {@code test} accepts (Selenium's wait, as {@link #await}); returns it. */
    String awaitConsoleLog(Predicate<String> test, Duration timeout) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(20))
                .withMessage(() -> "waiting for a console message on " + driver.getCurrentUrl() + "; seen "
                        + console)
                .until(d -> consoleLog().stream().filter(test).findFirst().orElse(null));
    }

    @Override
    public void close() throws IOException {
        try {
            Path log = TestEnv.buildDir().resolve("browser").resolve("console-" + name + ".log");
            Files.write(log, consoleLog());
        } catch (RuntimeException e) {
            // the browser may already be gone
        }
        try {
            driver.quit();
        } finally {
            service.stop();
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
