package io.github.pgiplisten.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.context.support.StaticApplicationContext;
import org.springframework.test.context.TestContext;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.core.EngineStatus;

/**
 * The ready signal itself, without a server: the listener waits with the annotation's timeout, fails the test when
 * nothing listens in time (naming the timeout), and leaves unannotated classes alone. The kit's Spring tests show it
 * in place; these would catch a listener that stopped waiting, which those might not (a context often listens by the
 * time its first test begins anyway).
 */
class ReadySignalTestExecutionListenerTest {

    @PgListenTestDatabase(awaitListeningSeconds = 7)
    static class Annotated {}

    static class NotAnnotated {}

    private final ReadySignalTestExecutionListener listener = new ReadySignalTestExecutionListener();

    @Test
    void waitsWithTheAnnotationsTimeoutBeforeEachTest() throws Exception {
        PgListenStatus status = mock(PgListenStatus.class);
        when(status.awaitListening(any())).thenReturn(true);
        listener.beforeTestMethod(testContext(Annotated.class, status));
        verify(status).awaitListening(Duration.ofSeconds(7));
    }

    @Test
    void failsTheTestWhenNothingListensInTime() throws Exception {
        PgListenStatus status = mock(PgListenStatus.class);
        when(status.awaitListening(any())).thenReturn(false);
        when(status.snapshot()).thenReturn(EngineStatus.stopped(java.util.Set.of("orders")));
        assertThatThrownBy(() -> listener.beforeTestMethod(testContext(Annotated.class, status)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("within 7 s")
                .hasMessageContaining("orders");
    }

    @Test
    void leavesClassesWithoutTheAnnotationAlone() throws Exception {
        PgListenStatus status = mock(PgListenStatus.class);
        listener.beforeTestMethod(testContext(NotAnnotated.class, status));
        verify(status, never()).awaitListening(any());
        assertThat(listener.getOrder()).isGreaterThan(0);
    }

    private static TestContext testContext(Class<?> testClass, PgListenStatus status) {
        StaticApplicationContext context = new StaticApplicationContext();
        context.getBeanFactory().registerSingleton("status", status);
        context.refresh();
        TestContext testContext = mock(TestContext.class);
        when(testContext.getTestClass()).thenAnswer(invocation -> testClass);
        when(testContext.getApplicationContext()).thenReturn(context);
        return testContext;
    }
}
