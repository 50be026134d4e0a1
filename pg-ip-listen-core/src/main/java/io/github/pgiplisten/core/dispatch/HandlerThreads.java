package io.github.pgiplisten.core.dispatch;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The handler threads an engine makes for itself when the application gives it no executor. */
public final class HandlerThreads {

    private HandlerThreads() {}

    /**
     * One daemon thread per busy channel at most, named after the engine; idle threads go after a minute but two: the
     * first notification after a takeover, and the events telling it, must not wait for a thread to be made.
     */
    public static ExecutorService pool(int engineNumber) {
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread thread = new Thread(task, "pg-ip-listen-" + engineNumber + "-handler-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        ThreadPoolExecutor pool =
                new ThreadPoolExecutor(2, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), factory);
        pool.prestartAllCoreThreads();
        return pool;
    }
}
