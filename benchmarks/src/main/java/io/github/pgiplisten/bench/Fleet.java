package io.github.pgiplisten.bench;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;

/**
 * {@link OursInstance} or {@link RawInstance} JVMs, started through the test support's harness, and what they report:
 * who handled which number when (epoch micros, the instances' own clock readings).
 */
final class Fleet implements AutoCloseable {

    record Handling(String instance, long micros) {}

    final class Instance implements InstanceJvm.Output {
        final String name;
        final InstanceJvm jvm;
        volatile boolean ready;
        volatile boolean leader;
        volatile long leaderAt;
        volatile long revokedAt;
        /** What it handled so far, when it runs quiet (see {@link OursInstance#QUIET}). */
        volatile long count;

        Instance(String name, InstanceJvm.Launch launch) throws IOException {
            this.name = name;
            this.jvm = launch.errorsToOutput().start(this);
        }

        @Override
        public void event(InstanceEvent event) {
            if (ECHO) {
                System.out.println("  [" + name + "] " + event);
            }
            switch (event.kind()) {
                case "ready" -> ready = true;
                case "leader" -> {
                    leader = true;
                    leaderAt = event.micros();
                }
                case "revoked" -> revokedAt = event.micros();
                case "count" -> count = event.detailAsLong();
                case "handled" -> {
                    String payload = event.detail();
                    if (payload.startsWith("n")) {
                        handled.computeIfAbsent(Long.parseLong(payload.substring(1)), n -> new CopyOnWriteArrayList<>())
                                .add(new Handling(name, event.micros()));
                        lastHandler = name;
                    }
                }
                default -> {
                    // not one this fleet reads
                }
            }
        }

        @Override
        public void line(String line) {
            if (ECHO) {
                System.out.println("  [" + name + "] " + line);
            } else if (line.contains("ERROR") || line.contains("Exception")) {
                System.err.println("  [" + name + "] " + line);
            }
        }
    }

    /** {@code -Dbench.echo=true} prints every line the instances write (with {@code -Dbench.ours-log=DEBUG}: why). */
    private static final boolean ECHO = Boolean.getBoolean("bench.echo");

    final Map<Long, List<Handling>> handled = new ConcurrentHashMap<>();
    final List<Instance> instances = new CopyOnWriteArrayList<>();
    volatile String lastHandler;
    private final Function<String, InstanceJvm.Launch> launch;

    /** @param launch how to start the instance with the given name */
    Fleet(Function<String, InstanceJvm.Launch> launch) {
        this.launch = launch;
    }

    Instance start(String name) throws IOException {
        Instance instance = new Instance(name, launch.apply(name));
        instances.add(instance);
        return instance;
    }

    Instance byName(String name) {
        return instances.stream()
                .filter(i -> i.name.equals(name) && i.jvm.isAlive())
                .findFirst()
                .orElseThrow();
    }

    List<Instance> alive() {
        return instances.stream().filter(i -> i.jvm.isAlive()).toList();
    }

    @Override
    public void close() throws InterruptedException {
        for (Instance instance : instances) {
            instance.jvm.kill();
        }
        for (Instance instance : instances) {
            instance.jvm.close();
        }
    }
}
