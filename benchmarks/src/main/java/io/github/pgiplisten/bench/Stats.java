package io.github.pgiplisten.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Medians, percentiles and spreads of measurements. */
final class Stats {

    private Stats() {}

    static double percentile(List<Double> values, double percent) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    static double median(List<Double> values) {
        return percentile(values, 50);
    }

    /** "median (min–max)". */
    static String medianAndSpread(List<Double> values, String format) {
        if (values.isEmpty()) {
            return "n/a";
        }
        return String.format(
                Locale.ROOT,
                format + " (" + format + "–" + format + ")",
                median(values),
                Collections.min(values),
                Collections.max(values));
    }

    /** "min–max". */
    static String spread(List<Double> values, String format) {
        if (values.isEmpty()) {
            return "n/a";
        }
        return String.format(Locale.ROOT, format + "–" + format, Collections.min(values), Collections.max(values));
    }
}
