package io.github.pgiplisten.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a process on this machine uses, read from outside it ({@code /proc}, {@code jcmd}): the figures must not be
 * changed by asking, and the instances are JVMs the benchmarks do not control from inside.
 */
final class ProcessStats {

    private ProcessStats() {}

    /** The fields of {@code /proc/<pid>/status} ({@code VmRSS}, {@code Threads}, …), values trimmed. */
    static Map<String, String> status(long pid) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                values.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return values;
    }

    /** Resident memory in kB. */
    static long residentKb(long pid) throws IOException {
        String rss = status(pid).get("VmRSS");
        if (rss == null) {
            throw new IllegalStateException("no VmRSS for " + pid);
        }
        return Long.parseLong(rss.replace("kB", "").trim());
    }

    /** utime + stime, in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /**
     * utime + stime in clock ticks of every process running {@code command} ({@code postgres}: the server's
     * postmaster and backends), by pid.
     */
    static Map<Long, Long> cpuTicksOf(String command) throws IOException {
        Map<Long, Long> ticks = new HashMap<>();
        try (var entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    if (stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                            .equals(command)) {
                        ticks.put(pid, cpuTicks(pid));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return ticks;
    }

    /**
     * The ticks {@code command}'s processes spent from {@code before} to now: the growth of those still running plus
     * all of those started since (those that exited meanwhile are not counted).
     */
    static long cpuTicksSince(String command, Map<Long, Long> before) throws IOException {
        long spent = 0;
        for (Map.Entry<Long, Long> now : cpuTicksOf(command).entrySet()) {
            spent += now.getValue() - before.getOrDefault(now.getKey(), 0L);
        }
        return spent;
    }

    /** USER_HZ: the clock ticks of a second in {@code /proc}'s CPU times, on Linux. */
    static final double TICKS_PER_SECOND = 100;

    /** The heap in use (MB) of a JVM: as it is, or after a full GC (what is retained); -1 when jcmd fails. */
    static long heapUsedMb(long pid, boolean afterGc) {
        long kb = heapUsedKb(pid, afterGc);
        return kb < 0 ? -1 : kb / 1024;
    }

    /** The same in kB, for differences below a megabyte. */
    static long heapUsedKb(long pid, boolean afterGc) {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            if (afterGc) {
                new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run")
                        .start()
                        .waitFor(30, TimeUnit.SECONDS);
            }
            Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.heap_info").start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            Matcher used = Pattern.compile("used (\\d+)K").matcher(output);
            return used.find() ? Long.parseLong(used.group(1)) : -1;
        } catch (IOException ex) {
            return -1;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
