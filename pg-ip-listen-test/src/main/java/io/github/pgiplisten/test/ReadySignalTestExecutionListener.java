package io.github.pgiplisten.test;

import java.time.Duration;

import org.springframework.test.context.TestContext;
import org.springframework.test.context.TestContextAnnotationUtils;
import org.springframework.test.context.support.AbstractTestExecutionListener;
import org.springframework.test.context.support.DependencyInjectionTestExecutionListener;

import io.github.pgiplisten.PgListenStatus;

/**
 * Before each test method of a class annotated {@link PgListenTestDatabase}: waits for the ready signal, so that what
 * the test publishes first is not sent before the listen connection LISTENs. Before each method, not once per class:
 * Spring pauses a cached context while other contexts' tests run, and a paused context listens again only when it is
 * used again.
 */
class ReadySignalTestExecutionListener extends AbstractTestExecutionListener {

    /**
     * After dependency injection, before a test-managed transaction begins ({@code TransactionalTestExecutionListener})
     * and before {@code @Sql} scripts run. Getting the application context restarts a paused one.
     */
    @Override
    public int getOrder() {
        return DependencyInjectionTestExecutionListener.ORDER + 10;
    }

    @Override
    public void beforeTestMethod(TestContext testContext) throws InterruptedException {
        PgListenTestDatabase annotation =
                TestContextAnnotationUtils.findMergedAnnotation(testContext.getTestClass(), PgListenTestDatabase.class);
        if (annotation == null || annotation.awaitListeningSeconds() <= 0) {
            return;
        }
        PgListenStatus status = testContext
                .getApplicationContext()
                .getBeanProvider(PgListenStatus.class)
                .getIfAvailable();
        if (status == null) {
            return; // pg-ip-listen is off in this context (pg-ip-listen.enabled=false)
        }
        Duration timeout = Duration.ofSeconds(annotation.awaitListeningSeconds());
        if (!status.awaitListening(timeout)) {
            throw new IllegalStateException("pg-ip-listen did not listen on every channel of the application's"
                    + " @PgListener methods within " + timeout.toSeconds() + " s (@PgListenTestDatabase"
                    + "(awaitListeningSeconds)), so the test would publish before anything listens: "
                    + status.snapshot());
        }
    }
}
