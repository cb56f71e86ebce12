using System.CommandLine;
using System.CommandLine.Parsing;

namespace Dls.Samples.Abstractions;

/// <summary>
/// A command's list of input paths (<c>denoise IN…</c>, <c>audio info FILE…</c>, <c>verify --enroll A B…</c>). A list
/// takes every token the parser does not know, so a mistyped option such as <c>--modle</c> would otherwise reach the
/// command as a path; here it is a usage error naming the command's options instead.
/// </summary>
public static class PathArguments
{
    /// <summary>Creates a one-or-more path argument that refuses tokens starting with '-' unless such a file or folder exists.</summary>
    /// <param name="name">The argument's name in the help text.</param>
    /// <param name="description">The help text.</param>
    /// <returns>The argument, to add to a command.</returns>
    public static Argument<string[]> OneOrMore(string name, string description)
    {
        var argument = new Argument<string[]>(name) { Description = description, Arity = ArgumentArity.OneOrMore };
        argument.Validators.Add(RefuseUnknownOptions);
        return argument;
    }

    /// <summary>Creates a required option taking one or more paths (<c>--enroll A.wav B.wav</c>), with the same check.</summary>
    /// <param name="name">The option's name, with its dashes.</param>
    /// <param name="description">The help text.</param>
    /// <returns>The option, to add to a command.</returns>
    public static Option<string[]> OneOrMoreOption(string name, string description)
    {
        var option = new Option<string[]>(name) { Description = description, Required = true, AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.OneOrMore };
        option.Validators.Add(RefuseUnknownOptions);
        return option;
    }

    /// <summary>
    /// Makes an output-folder option (<c>--out DIR</c>) a usage error, before any work, when it names an existing file: a
    /// task would otherwise train for minutes and then fail to create its folder.
    /// </summary>
    /// <param name="option">The option.</param>
    /// <returns>The same option.</returns>
    public static Option<string> AsOutputFolder(this Option<string> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            string? folder = result.GetValueOrDefault<string>();
            if (folder is not null && File.Exists(folder))
            {
                result.AddError($"{option.Name}: expected a folder (existing or new), found the file '{Path.GetFullPath(folder)}'.");
            }
        });
        return option;
    }

    /// <summary>Checks that an input path names an existing file; a folder or nothing there is reported as such.</summary>
    /// <param name="path">The path given on the command line.</param>
    /// <param name="what">What was expected, e.g. <c>WAV file</c>.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/> (the message says whether a folder is there).</exception>
    public static void RequireFile(string path, string what = "file")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                Directory.Exists(path) ? $"Expected a {what}, found a folder at '{path}'." : $"Expected a {what}, found nothing at '{path}'.", path);
        }
    }

    private static void RefuseUnknownOptions(SymbolResult result)
    {
        var command = (result.Parent as CommandResult)?.Command;
        foreach (Token token in result.Tokens)
        {
            string value = token.Value;
            if (token.Type == TokenType.Argument && value.StartsWith('-') && !File.Exists(value) && !Directory.Exists(value))
            {
                var known = command?.Options.Where(o => !o.Hidden).ToList() ?? [];
                if (result is OptionResult list && known.Any(o => o.Name == value || o.Aliases.Contains(value)))
                {
                    // "--enroll --test X": the list took the next option as its path because it had none of its own.
                    result.AddError($"{list.Option.Name}: expected one or more paths before the next option, found the option '{value}'.");
                    continue;
                }

                string options = string.Join(", ", known.Select(o => o.Name).Order(StringComparer.Ordinal));
                result.AddError($"Unknown option '{value}': expected a path (no file or folder has that name) or one of the options [{options}].");
            }
        }
    }
}
