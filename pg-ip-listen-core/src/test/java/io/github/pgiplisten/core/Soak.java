package io.github.pgiplisten.core;

/**
 * The tag of tests that wait out long stretches of real time by design (a listener blocked for 20 s, pauses past
 * the server's TCP user timeout, hundreds of reconnect cycles). They run in every {@code ./mvnw verify}; CI's second
 * Spring Boot line leaves them out ({@code -DexcludedGroups=soak}): they take about two minutes, and what they wait
 * for does not change with the line, while the socket-level tests that could (the line brings its own pgjdbc) still
 * run there.
 */
final class Soak {

    static final String TAG = "soak";

    private Soak() {}
}
