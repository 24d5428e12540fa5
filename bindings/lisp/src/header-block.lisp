;;;; A response's header fields (and a short body) for C, written into one
;;;; foreign block: the c10k_header array, then the bytes its views point
;;;; to. ASCII strings and keywords (the usual names and values) are
;;;; written straight from the Lisp objects, so answering a request conses
;;;; nothing here; anything else is converted first.

(in-package #:c10k)

(defconstant +stack-block-bytes+ 2048
  "Blocks up to this size are built on the stack, larger ones on the heap.")

(defconstant +inline-body-chars+ 1024
  "A string body up to this length is written into the block; a longer one
is encoded to octets, which C reads in place.")

(defconstant +header-entry-bytes+ 32 "sizeof (c10k_header) on 64-bit targets.")
(assert (= +header-entry-bytes+ (cffi:foreign-type-size '(:struct c10k-header))))

(defun direct-length (thing)
  "The byte length of THING as PUT-DIRECT writes it: an ASCII simple string,
a symbol with an ASCII name (written lowercased) or an octet vector; NIL
for anything else, which HEADER-FIELD converts first."
  (typecase thing
    (simple-string (and (ascii-string-p thing) (length thing)))
    (symbol (let ((name (symbol-name thing)))
              (and (ascii-string-p name) (length name))))
    (octets (length thing))))

(defmacro put-chars (string type sap offset downcase)
  `(let ((string ,string))
     (declare (type ,type string))
     (dotimes (i (length string))
       (setf (sb-sys:sap-ref-8 ,sap (+ ,offset i))
             (let ((code (char-code (schar string i))))
               ,(if downcase
                    '(if (<= 65 code 90) (+ code 32) code)
                    'code))))))

(defun put-direct (thing sap offset)
  "Writes THING (DIRECT-LENGTH is true of it) at SAP + OFFSET; a symbol's
name lowercased. Returns the offset after it."
  (declare (optimize speed) (type sb-sys:system-area-pointer sap) (type fixnum offset))
  (let ((downcase (symbolp thing))
        (text (if (symbolp thing) (symbol-name thing) thing)))
    (etypecase text
      (simple-base-string
       (if downcase
           (put-chars text simple-base-string sap offset t)
           (put-chars text simple-base-string sap offset nil)))
      ((simple-array character (*))
       (if downcase
           (put-chars text (simple-array character (*)) sap offset t)
           (put-chars text (simple-array character (*)) sap offset nil)))
      (octets
       (sb-sys:with-pinned-objects (text)
         (memcpy (sb-sys:sap+ sap offset) (sb-sys:vector-sap text) (length text)))))
    (the fixnum (+ offset (length (the vector text))))))

(defun header-field (thing)
  "A header name or value that DIRECT-LENGTH accepts: a string or symbol
with ASCII text as it is, anything else as UTF-8 octets of its text
(numbers printed)."
  (if (direct-length thing)
      thing
      (let ((text (header-text thing)))
        (if (and (simple-string-p text) (ascii-string-p text))
            text
            (string-octets text)))))

(defmacro do-header-pairs ((name value) headers plist &body body)
  "Runs BODY with NAME and VALUE bound to each field of HEADERS: a plist if
PLIST is true, else an alist."
  `(flet ((visit (,name ,value) ,@body))
     (declare (dynamic-extent #'visit))
     (if ,plist
         (loop for (name value) on ,headers by #'cddr do (visit name value))
         (loop for (name . value) in ,headers do (visit name value)))))

(defun converted-fields (headers plist)
  "HEADERS as an alist of fields that DIRECT-LENGTH accepts."
  (let ((alist '()))
    (do-header-pairs (name value) headers plist
      (push (cons (header-field name) (header-field value)) alist))
    (nreverse alist)))

(defun fill-header-block (block limit headers plist count)
  "Writes the c10k_header array of HEADERS (COUNT fields) at BLOCK, followed
by their bytes, and returns the offset after them; NIL, with nothing
useful written, if a field is not one DIRECT-LENGTH accepts or they do not
fit in LIMIT bytes."
  (declare (optimize speed) (type sb-sys:system-area-pointer block)
           (type fixnum count limit))
  (let ((entry 0)
        (offset (* count +header-entry-bytes+)))
    (declare (type fixnum entry offset))
    (when (> offset limit)
      (return-from fill-header-block nil))
    (flet ((view (thing)
             (let ((length (direct-length thing))
                   (start offset))
               (unless (and length (<= (+ offset (the fixnum length)) limit))
                 (return-from fill-header-block nil))
               (setf offset (put-direct thing block offset))
               (setf (sb-sys:sap-ref-sap block entry) (sb-sys:sap+ block start)
                     (sb-sys:sap-ref-64 block (+ entry 8)) (- offset start))
               (incf entry 16))))
      (do-header-pairs (name value) headers plist
        (view name)
        (view value)))
    offset))

(defun call-with-response-block (headers plist body function)
  "Calls FUNCTION with the foreign c10k_header array of HEADERS (an alist,
or a plist if PLIST is true), its length, and a pointer to BODY's bytes
and their count. BODY is a string (sent as UTF-8), an octet vector or NIL.
Everything lives until FUNCTION returns (C copies what it keeps): on the
stack when small, and without consing when the fields are ASCII strings
or symbols and BODY a short ASCII string or octets."
  (declare (optimize speed) (type function function))
  (let* ((count (if plist (ash (length (the list headers)) -1) (length (the list headers))))
         (inline-body (and (simple-string-p body)
                           (<= (length body) +inline-body-chars+)
                           (ascii-string-p body)
                           body)))
    (declare (type fixnum count))
    (flet ((call (block end)
             (declare (type sb-sys:system-area-pointer block) (type fixnum end))
             (if inline-body
                 (funcall function block count (sb-sys:sap+ block end)
                          (- (the fixnum (put-direct inline-body block end)) end))
                 (let ((octets (body-octets body)))
                   (sb-sys:with-pinned-objects (octets)
                     (funcall function block count (sb-sys:vector-sap octets)
                              (length octets)))))))
      (cffi:with-foreign-pointer (block +stack-block-bytes+)
        (let ((end (fill-header-block block
                                      (- +stack-block-bytes+ (if inline-body (length inline-body) 0))
                                      headers plist count)))
          (when end
            (return-from call-with-response-block (call block end)))))
      ;; Fields to convert, or too many bytes for the stack.
      (let* ((fields (converted-fields headers plist))
             (size (+ (* count +header-entry-bytes+)
                      (loop for (name . value) in fields
                            sum (+ (the fixnum (direct-length name))
                                   (the fixnum (direct-length value))) of-type fixnum)
                      (if inline-body (length inline-body) 0)))
             (block (cffi:foreign-alloc :uint8 :count (max size 1))))
        (unwind-protect (call block (fill-header-block block size fields nil count))
          (cffi:foreign-free block))))))

;; Both macros pass a stack closure: nothing is consed for the call.
(defmacro with-response-block ((array count data length) (headers body &key plist)
                               &body forms)
  "Runs FORMS with ARRAY and COUNT, the foreign c10k_header array of
HEADERS (an alist, or a plist with :PLIST true), and DATA and LENGTH,
BODY's bytes: see CALL-WITH-RESPONSE-BLOCK."
  (let ((call (gensym "CALL")))
    `(flet ((,call (,array ,count ,data ,length)
              (declare (ignorable ,data ,length))
              ,@forms))
       (declare (dynamic-extent #',call))
       (call-with-response-block ,headers ,plist ,body #',call))))

(defmacro with-header-array ((array count) headers &body body)
  "Runs BODY with ARRAY, a foreign c10k_header array built from the alist
HEADERS, and COUNT its length; both are valid only within BODY."
  `(with-response-block (,array ,count ,(gensym "DATA") ,(gensym "LENGTH")) (,headers nil)
     ,@body))
