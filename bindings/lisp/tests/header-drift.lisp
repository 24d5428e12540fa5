;;;; The binding cannot drift from include/c10k.h: every function (name,
;;;; return type, parameter types), #define constant and struct member of the
;;;; header must be declared in src/ffi.lisp with the same shape.

(in-package #:c10k/tests)

(in-suite c10k)

(defun header-text ()
  (uiop:read-file-string (asdf:system-relative-pathname "c10k" "../../include/c10k.h")))

(defun strip-comments (text)
  "TEXT without // comments and preprocessor lines."
  (with-output-to-string (out)
    (with-input-from-string (in text)
      (loop for line = (read-line in nil)
            while line
            unless (alexandria:starts-with #\# (string-left-trim " " line))
              do (write-line (subseq line 0 (search "//" line)) out)))))

(defun squeeze (text)
  "TEXT with runs of whitespace made one space, trimmed."
  (string-trim " " (with-output-to-string (out)
                     (loop with space = nil
                           for c across text
                           do (if (member c '(#\Space #\Tab #\Newline #\Return))
                                  (setf space t)
                                  (progn (when space (write-char #\Space out))
                                         (setf space nil)
                                         (write-char c out)))))))

(defun c-type->cffi (type)
  "The CFFI type a C parameter or member type maps to: every pointer and
callback is :POINTER."
  (let ((type (squeeze (remove-prefix "const " (remove-prefix "struct " type)))))
    (cond ((find #\* type) :pointer)
          ((search "(*" type) :pointer)
          ((alexandria:ends-with-subseq "_cb" type) :pointer)
          (t (or (cdr (assoc type '(("void" . :void) ("bool" . :bool) ("size_t" . :size)
                                    ("int32_t" . :int32) ("uint32_t" . :uint32)
                                    ("int64_t" . :int64) ("uint64_t" . :uint64)
                                    ("uint16_t" . :uint16) ("uint8_t" . :uint8))
                             :test #'string=))
                 (list :struct type))))))

(defun remove-prefix (prefix string)
  (let ((s (string-left-trim " " string)))
    (if (alexandria:starts-with-subseq prefix s) (subseq s (length prefix)) s)))

(defun split-declaration (declaration)
  "\"const char *name\" -> \"const char *\": the type part of a parameter."
  (let ((end (1+ (or (position-if (lambda (c) (member c '(#\Space #\*))) declaration
                                  :from-end t)
                     -1))))
    (subseq declaration 0 end)))

(defun header-functions ()
  "(name return-type parameter-types) for each function of the header."
  (let ((text (squeeze (strip-comments (header-text)))))
    (loop with start = 0
          for open = (search "c10k_" text :start2 start)
          while open
          do (setf start (1+ open))
          append (let ((paren (position #\( text :start open))
                       (semi (position #\; text :start open)))
                   (when (and paren semi (< paren semi)
                              (member (char text (1- open)) '(#\Space #\*))
                              (every (lambda (c) (or (alphanumericp c) (char= c #\_)))
                                     (subseq text open paren))
                              (char= (char text (1- semi)) #\)))
                     (let* ((name (subseq text open paren))
                            (return (squeeze (subseq text (declaration-start text open) open)))
                            (params (subseq text (1+ paren) (1- semi)))
                            (types (unless (string= (squeeze params) "void")
                                     (mapcar (lambda (p) (c-type->cffi (split-declaration (squeeze p))))
                                             (uiop:split-string params :separator ",")))))
                       (unless (search "typedef" return)
                         (list (list name (c-type->cffi return) types)))))))))

(defun declaration-start (text end)
  "Where the declaration ending at END begins: after the previous ; { or }."
  (1+ (or (position-if (lambda (c) (member c '(#\; #\} #\{))) text :end end :from-end t) -1)))

(defun header-constants ()
  "(name . value) for each integer #define C10K_* of the header."
  (with-input-from-string (in (header-text))
    (loop for line = (read-line in nil)
          while line
          for words = (uiop:split-string (squeeze (subseq line 0 (search "//" line)))
                                         :separator " ")
          when (and (= (length words) 3) (string= (first words) "#define")
                    (alexandria:starts-with-subseq "C10K_" (second words)))
            collect (cons (second words) (parse-c-integer (third words))))))

(defun parse-c-integer (text)
  (let ((text (string-trim "()" text)))
    (if (alexandria:starts-with-subseq "0x" text)
        (parse-integer text :start 2 :radix 16)
        (parse-integer text))))

(defun header-structs ()
  "(name member-names member-types) for each struct body of the header."
  (let ((text (strip-comments (header-text))))
    (loop with start = 0
          for open = (search "typedef struct " text :start2 start)
          while open
          for brace = (position #\{ text :start open)
          for semi = (position #\; text :start open)
          do (setf start (1+ open))
          when (and brace (< brace semi))
            collect (let* ((name (squeeze (subseq text (+ open 15) brace)))
                           (close (search (format nil "} ~A;" name) text :start2 brace))
                           (members (remove "" (mapcar #'squeeze
                                                      (uiop:split-string (subseq text (1+ brace) close)
                                                                         :separator ";"))
                                            :test #'string=)))
                      (list name
                            (mapcar #'member-name members)
                            (mapcar (lambda (m) (c-type->cffi (member-type m))) members))))))

(defun member-name (member)
  "The member's name: after the last * or space, or inside (*name) for a callback."
  (let ((fp (search "(*" member)))
    (if fp
        (subseq member (+ fp 2) (position #\) member :start fp))
        (subseq member (1+ (position-if (lambda (c) (member c '(#\Space #\*))) member :from-end t))))))

(defun member-type (member)
  (if (search "(*" member) "void *" (split-declaration member)))

(defun declared (name)
  (gethash name c10k.ffi:*declarations*))

(defun normalize (type)
  "Binding types as the header parser sees them: :STRING is a char pointer,
a struct is named by its C name."
  (cond ((eq type :string) :pointer)
        ((and (consp type) (eq (first type) :struct))
         (list :struct (substitute #\_ #\- (string-downcase (symbol-name (second type))))))
        (t type)))

(test header-parses
  "The parser finds the header's declarations at all: a check on the check."
  (is (< 60 (length (header-functions))))
  (is (< 30 (length (header-constants))))
  (is (= (count-struct-definitions) (length (header-structs)))))

(defun count-struct-definitions ()
  "How many lines of the header open a struct definition, counted plainly."
  (with-input-from-string (in (header-text))
    (loop for line = (read-line in nil)
          while line
          count (and (alexandria:starts-with-subseq "typedef struct " line)
                     (find #\{ line)))))

(test every-function-declared
  (dolist (f (header-functions))
    (destructuring-bind (name return types) f
      (let ((d (declared name)))
        (is (eq :function (first d)) "~A is not declared in ffi.lisp" name)
        (when d
          (is (equal return (normalize (second d))) "~A returns ~S, declared ~S" name return (second d))
          (is (equal types (mapcar #'normalize (third d)))
              "~A takes ~S, declared ~S" name types (third d)))
        (is (cffi:foreign-symbol-pointer name) "~A is missing from libc10k" name)))))

(test every-constant-declared
  (loop for (name . value) in (header-constants)
        for d = (declared name)
        do (is (equal (list :constant value) d) "~A = ~D, declared ~S" name value d)))

(test every-struct-declared
  (loop for (name names types) in (header-structs)
        for d = (declared name)
        do (is (eq :struct (first d)) "struct ~A is not declared" name)
           (is (equal names (second d)) "~A has members ~S, declared ~S" name names (second d))
           (is (equal types (mapcar #'normalize (third d)))
               "~A has member types ~S, declared ~S" name types (third d))))

(test abi-version-checked
  (is (= c10k.ffi:+abi-version+ (c10k.ffi:c10k-abi-version)))
  (is (string= (format nil "~D.~D.~D" c10k.ffi:+version-major+ c10k.ffi:+version-minor+
                       c10k.ffi:+version-patch+)
               (c10k:library-version)))
  (let ((condition (handler-case (c10k::check-abi (1+ c10k.ffi:+abi-version+))
                     (c10k:abi-mismatch (c) c))))
    (is (typep condition 'c10k:abi-mismatch))
    (is (search (format nil "C10K_ABI_VERSION ~D" (1+ c10k.ffi:+abi-version+))
                (princ-to-string condition)))))
