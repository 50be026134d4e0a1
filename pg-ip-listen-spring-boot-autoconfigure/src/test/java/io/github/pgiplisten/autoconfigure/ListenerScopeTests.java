package io.github.pgiplisten.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.CustomScopeConfigurer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;
import org.springframework.context.annotation.ScopedProxyMode;
import org.springframework.context.support.SimpleThreadScope;

import io.github.pgiplisten.PgListenStatus;
import io.github.pgiplisten.PgListener;
import io.github.pgiplisten.PgPublisher;

/**
 * {@code @PgListener} methods belong on singleton beans: each instance of a prototype or scoped bean would register
 * its listener again, and none would ever be removed. Such a bean fails start-up with a message naming the bean, the
 * method and the scope, and what to do instead.
 */
class ListenerScopeTests {

    private static final String ACTION = "Put the @PgListener method on a singleton bean (the default scope); when it "
            + "needs a prototype or scoped object, inject an ObjectProvider of it and get one per notification.";

    private final String channel = TestContexts.channel("scope");

    static class ScopedListener {

        final List<String> texts = new CopyOnWriteArrayList<>();

        @PgListener("${test.channel}")
        void on(String payload) {
            texts.add(payload);
        }

        List<String> texts() {
            return texts;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Prototype {
        @Bean
        @Scope("prototype")
        ScopedListener prototypeListener() {
            return new ScopedListener();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class PrototypeBehindAScopedProxy {
        @Bean
        @Scope(value = "prototype", proxyMode = ScopedProxyMode.TARGET_CLASS)
        ScopedListener proxiedListener() {
            return new ScopedListener();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class CustomScope {
        @Bean
        static CustomScopeConfigurer threadScope() {
            CustomScopeConfigurer configurer = new CustomScopeConfigurer();
            configurer.addScope("thread", new SimpleThreadScope());
            return configurer;
        }

        @Bean
        @Scope("thread")
        ScopedListener threadListener() {
            return new ScopedListener();
        }
    }

    /** A prototype whose type its definition does not tell: found when an instance is made. */
    @Configuration(proxyBeanMethods = false)
    static class UntypedPrototype {
        @Bean
        @Scope("prototype")
        Object untypedListener() {
            return new ScopedListener();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Singleton {
        @Bean
        ScopedListener singletonListener() {
            return new ScopedListener();
        }
    }

    private ApplicationContextRunner app() {
        return TestContexts.runner().withPropertyValues("test.channel=" + channel);
    }

    private static String description(String bean, String scope) {
        return "@PgListener method " + bean + "#on is on a bean of scope '" + scope + "': @PgListener methods must "
                + "be on singleton beans, because each instance of a prototype or scoped bean would register its "
                + "listener again and none would ever be removed";
    }

    @Test
    void aPrototypeBeanWithAListenerFailsStartUpNamingBeanMethodAndScope() {
        app().withUserConfiguration(Prototype.class)
                .run(context -> BadInputListenerTests.assertStartUpFailure(
                        context.getStartupFailure(), description("prototypeListener", "prototype"), ACTION));
    }

    @Test
    void aPrototypeBehindAScopedProxyFailsStartUpUnderItsOwnName() {
        app().withUserConfiguration(PrototypeBehindAScopedProxy.class)
                .run(context -> BadInputListenerTests.assertStartUpFailure(
                        context.getStartupFailure(), description("proxiedListener", "prototype"), ACTION));
    }

    @Test
    void aBeanOfACustomScopeFailsStartUpNamingTheScope() {
        app().withUserConfiguration(CustomScope.class)
                .run(context -> BadInputListenerTests.assertStartUpFailure(
                        context.getStartupFailure(), description("threadListener", "thread"), ACTION));
    }

    @Test
    void aPrototypeOfAnUndeclaredTypeIsRejectedWhenAnInstanceIsMadeAndRegistersNothing() {
        app().withUserConfiguration(UntypedPrototype.class).run(context -> {
            assertThat(context).hasNotFailed();
            Throwable failure = catchThrowable(() -> context.getBean("untypedListener"));
            BadInputListenerTests.assertStartUpFailure(failure, description("untypedListener", "prototype"), ACTION);
            assertThat(context.getBean(PgListenStatus.class)
                            .snapshot()
                            .channels()
                            .subscribed())
                    .doesNotContain(channel);
        });
    }

    @Test
    void aSingletonListenerWorks() {
        app().withUserConfiguration(Singleton.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PgListenStatus.class).awaitListening(Duration.ofSeconds(20)))
                    .isTrue();
            context.getBean(PgPublisher.class).notify(channel, "to the singleton");
            ScopedListener listener = context.getBean(ScopedListener.class);
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(listener.texts()).containsExactly("to the singleton"));
        });
    }
}
