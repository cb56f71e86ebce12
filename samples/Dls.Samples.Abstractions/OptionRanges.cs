using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Dls.Samples.Abstractions;

/// <summary>
/// Number options that parse and range-check their value while the command line is parsed: a bad value is a usage error
/// (exit code 2, before any work) in the option's own terms — "--threads: expected a whole number from 1 to 8, found
/// 'abc'" — rather than a parser message naming .NET types, or a library's parameter name after the work has begun.
/// </summary>
public static class OptionRanges
{
    /// <summary>Accepts whole numbers in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="option">The option.</param>
    /// <param name="min">Smallest value accepted.</param>
    /// <param name="max">Largest value accepted.</param>
    /// <param name="why">Optional reason for the range, shown in brackets after it.</param>
    /// <returns>The same option.</returns>
    public static Option<int> Within(this Option<int> option, int min, int max, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseInt(result, option.Name, min, max, why) ?? default;
        return option;
    }

    /// <summary>Accepts whole numbers in [<paramref name="min"/>, <paramref name="max"/>]; absent stays null.</summary>
    /// <param name="option">The option.</param>
    /// <param name="min">Smallest value accepted.</param>
    /// <param name="max">Largest value accepted.</param>
    /// <param name="why">Optional reason for the range, shown in brackets after it.</param>
    /// <returns>The same option.</returns>
    public static Option<int?> Within(this Option<int?> option, int min, int max, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseInt(result, option.Name, min, max, why);
        return option;
    }

    /// <summary>Accepts numbers in [<paramref name="min"/>, <paramref name="max"/>] (so never NaN or ±∞).</summary>
    /// <param name="option">The option.</param>
    /// <param name="min">Smallest value accepted.</param>
    /// <param name="max">Largest value accepted.</param>
    /// <param name="why">Optional reason for the range, shown in brackets after it.</param>
    /// <returns>The same option.</returns>
    public static Option<double> Within(this Option<double> option, double min, double max, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseDouble(result, option.Name, min, max, why) ?? default;
        return option;
    }

    /// <summary>Accepts numbers in [<paramref name="min"/>, <paramref name="max"/>] (so never NaN or ±∞); absent stays null.</summary>
    /// <param name="option">The option.</param>
    /// <param name="min">Smallest value accepted.</param>
    /// <param name="max">Largest value accepted.</param>
    /// <param name="why">Optional reason for the range, shown in brackets after it.</param>
    /// <returns>The same option.</returns>
    public static Option<double?> Within(this Option<double?> option, double min, double max, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseDouble(result, option.Name, min, max, why);
        return option;
    }

    private static int? ParseInt(ArgumentResult result, string name, int min, int max, string? why) =>
        Parse(result, name, min, max, why, NumberStyles.AllowLeadingSign, "a whole number");

    private static double? ParseDouble(ArgumentResult result, string name, double min, double max, string? why) =>
        Parse(result, name, min, max, why, NumberStyles.Float, "a number");

    /// <summary>Parses the option's value (invariant culture) and keeps it within [min, max]; anything else is a parse error.</summary>
    private static T? Parse<T>(ArgumentResult result, string name, T min, T max, string? why, NumberStyles styles, string kind)
        where T : struct, INumber<T>
    {
        string? token = SingleToken(result);
        if (token is null)
        {
            return null;
        }

        if (T.TryParse(token, styles, CultureInfo.InvariantCulture, out T value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name}: expected {kind} from {min} to {max}{Because(why)}, found '{token}'."));
        return null;
    }

    /// <summary>The option's one value; the parser reports a missing value itself, so none gives null without an error.</summary>
    private static string? SingleToken(ArgumentResult result) => result.Tokens.Count == 0 ? null : result.Tokens[^1].Value;

    private static string Because(string? why) => why is null ? string.Empty : $" ({why})";
}
