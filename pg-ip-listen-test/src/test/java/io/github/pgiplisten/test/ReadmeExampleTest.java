package io.github.pgiplisten.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * README's "Testing your application" shows {@code OrderEventsTests} as this module's tests run it: the code block
 * must be that file (without its package line), so the example a reader copies is one that passes here, without
 * Docker.
 */
class ReadmeExampleTest {

    @Test
    void theReadmesTestExampleIsTheTestThatRunsHere() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = Pattern.compile("```java\n(import [^`]*?class OrderEventsTests \\{.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(block.find())
                .as("a java block with class OrderEventsTests in README.md")
                .isTrue();
        String test = Files.readString(
                Path.of("src/test/java/io/github/pgiplisten/test/example/OrderEventsTests.java"),
                StandardCharsets.UTF_8);
        assertThat(block.group(1)).isEqualTo(test.substring(test.indexOf("import ")));
    }
}
