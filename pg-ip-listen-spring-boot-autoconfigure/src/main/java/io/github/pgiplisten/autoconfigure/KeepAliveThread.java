package io.github.pgiplisten.autoconfigure;

import java.util.concurrent.CountDownLatch;

/**
 * A non-daemon thread that waits until released. Like Spring Kafka's listener threads it keeps an application that
 * only listens from exiting: the engine's own threads are daemons, and an application without a web server would
 * otherwise end right after start-up.
 */
final class KeepAliveThread {

    private final CountDownLatch released = new CountDownLatch(1);

    private KeepAliveThread() {}

    static KeepAliveThread start() {
        KeepAliveThread keepAlive = new KeepAliveThread();
        Thread thread = new Thread(
                () -> {
                    try {
                        keepAlive.released.await();
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                },
                "pg-ip-listen-keep-alive");
        thread.setDaemon(false);
        thread.start();
        return keepAlive;
    }

    void release() {
        released.countDown();
    }
}
