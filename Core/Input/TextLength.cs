namespace AiPrompts.Core.Input;

/// <summary>
/// Text limits count characters as Unicode code points (scalar values), not UTF-16 units: an emoji outside
/// the Basic Multilingual Plane is one character, as a person reading the limit expects. Code points rather
/// than text elements (grapheme clusters), because Postgres's <c>char_length</c> counts the same thing, and
/// because grapheme rules change with each Unicode version, so a stored text would not keep fitting a limit
/// across runtime updates. (A family emoji of 7 code points counts 7.)
/// </summary>
public static class TextLength
{
    public static int Of(string text)
    {
        var length = text.Length;
        for (var i = 0; i < text.Length - 1; i++)
        {
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1]))
            {
                length--;
                i++;
            }
        }
        return length;
    }
}
